//! The application form (DC02 申請): every field of a new application, or, for the other
//! types, the target certificate's application with only what that type may change.
//! Inline errors come from `proto::validate::application`, the server's own rules.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{ApplicationForm, ApplicationQuery, ApplicationView, CompanyInput, ContactInput};
use proto::{
    Action, ApplicationType, BusinessType, CertKind, CustomsOffice, Lang, RevocationReason, Status,
};

use crate::api::{self, ApiError};
use crate::form::{
    CheckField, FormCtl, RadioField, RadioOption, ReadOnly, SelectField, TextField, dom_id,
    revocation_reason_options,
};
use crate::i18n::{lang, pick, tr};
use crate::route::Route;
use crate::session::{use_flash, use_session};
use crate::widgets::{Confirm, ErrorBox};

/// Every input of the form as a signal.
#[derive(Clone, Copy)]
struct State {
    app_type: RwSignal<String>,
    target: RwSignal<String>,
    company_name: RwSignal<String>,
    company_phone: RwSignal<String>,
    company_fax: RwSignal<String>,
    responsible_person: RwSignal<String>,
    responsible_phone: RwSignal<String>,
    contact_name: RwSignal<String>,
    contact_phone: RwSignal<String>,
    contact_mobile: RwSignal<String>,
    contact_email: RwSignal<String>,
    office: RwSignal<String>,
    business: RwSignal<String>,
    box_number: RwSignal<String>,
    kind: RwSignal<String>,
    staff_code: RwSignal<String>,
    staff_id: RwSignal<String>,
    consent: RwSignal<bool>,
    reason: RwSignal<String>,
    /// RFC 5280 reason of a revoke.
    reason_code: RwSignal<String>,
    /// The company name the IC card proved (card login): sent instead of the field's.
    verified_name: RwSignal<Option<String>>,
}

fn s() -> RwSignal<String> {
    RwSignal::new(String::new())
}

impl State {
    fn new(app_type: ApplicationType, target: Option<String>) -> Self {
        State {
            app_type: RwSignal::new(app_type.code().to_owned()),
            target: RwSignal::new(target.unwrap_or_default()),
            company_name: s(),
            company_phone: s(),
            company_fax: s(),
            responsible_person: s(),
            responsible_phone: s(),
            contact_name: s(),
            contact_phone: s(),
            contact_mobile: s(),
            contact_email: s(),
            // The manual's defaults: 基隆關, 報關業(含自行報關), 個人 (新申請 comes from the route).
            office: RwSignal::new(CustomsOffice::Keelung.code().to_owned()),
            business: RwSignal::new(BusinessType::Broker.code().to_owned()),
            box_number: s(),
            kind: RwSignal::new(CertKind::Individual.code().to_owned()),
            staff_code: s(),
            staff_id: s(),
            consent: RwSignal::new(false),
            reason: s(),
            reason_code: s(),
            verified_name: RwSignal::new(None),
        }
    }

    fn app_type(&self) -> ApplicationType {
        ApplicationType::from_code(&self.app_type.get()).unwrap_or(ApplicationType::New)
    }

    /// The request body (tracked reads, so validation re-runs on every change).
    fn form(&self) -> ApplicationForm {
        let t = |s: RwSignal<String>| s.get().trim().to_owned();
        let app_type = self.app_type();
        let new = app_type == ApplicationType::New;
        let kind = CertKind::from_code(&self.kind.get());
        ApplicationForm {
            app_type,
            target: (!new).then(|| t(self.target)).filter(|s| !s.is_empty()),
            company: CompanyInput {
                name: self
                    .verified_name
                    .get()
                    .unwrap_or_else(|| t(self.company_name)),
                phone: t(self.company_phone),
                fax: t(self.company_fax),
                responsible_person: t(self.responsible_person),
                responsible_phone: t(self.responsible_phone),
            },
            contact: ContactInput {
                name: t(self.contact_name),
                phone: t(self.contact_phone),
                mobile: t(self.contact_mobile),
                email: t(self.contact_email),
            },
            customs_office: if new {
                CustomsOffice::from_code(&self.office.get())
            } else {
                None
            },
            business_type: if new {
                BusinessType::from_code(&self.business.get())
            } else {
                None
            },
            box_number: if new {
                t(self.box_number)
            } else {
                String::new()
            },
            cert_kind: if new { kind } else { None },
            staff_code: if new {
                t(self.staff_code)
            } else {
                String::new()
            },
            staff_national_id: if new && kind == Some(CertKind::Individual) {
                t(self.staff_id).to_uppercase()
            } else {
                String::new()
            },
            privacy_consent: self.consent.get(),
            reason_code: if app_type == ApplicationType::Revoke {
                RevocationReason::from_code(&self.reason_code.get())
            } else {
                None
            },
            reason: if matches!(
                app_type,
                ApplicationType::Revoke | ApplicationType::Suspend | ApplicationType::Unsuspend
            ) {
                t(self.reason)
            } else {
                String::new()
            },
        }
    }

    /// Company and contact from the target application, as they are now.
    fn fill_from(&self, a: &ApplicationView) {
        if self.verified_name.get_untracked().is_none() {
            self.company_name.set(a.company.name.clone());
        }
        self.company_phone.set(a.company.phone.clone());
        self.company_fax.set(a.company.fax.clone());
        self.responsible_person
            .set(a.company.responsible_person.clone());
        self.responsible_phone
            .set(a.company.responsible_phone.clone());
        self.contact_name.set(a.contact.name.clone());
        self.contact_phone.set(a.contact.phone.clone());
        self.contact_mobile.set(a.contact.mobile.clone());
        self.contact_email.set(a.contact.email.clone());
    }
}

/// The manual's words after a successful new or renew application (zh-TW, English).
pub fn success_message(bill_no: &str) -> (String, String) {
    (
        format!("申請成功，規費繳款書號碼：{bill_no}，請列印規費繳款書進行繳費"),
        format!(
            "Application submitted. Fee bill number: {bill_no}. Please print the fee bill and pay it."
        ),
    )
}

/// The action that makes an application a valid target for `t`.
fn action_for(t: ApplicationType) -> Option<Action> {
    match t {
        ApplicationType::New => None,
        ApplicationType::Modify => Some(Action::Change),
        ApplicationType::Renew => Some(Action::Renew),
        ApplicationType::Revoke => Some(Action::Revoke),
        ApplicationType::Suspend => Some(Action::Suspend),
        ApplicationType::Unsuspend => Some(Action::Unsuspend),
    }
}

/// Radio buttons for every value of a vocabulary, as the manual's form shows them.
fn radios<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T, Lang) -> &'static str,
) -> Vec<RadioOption> {
    all.iter()
        .map(|v| (code(*v), label(*v, Lang::ZhTw), label(*v, Lang::En), None))
        .collect()
}

#[component]
pub fn Apply(app_type: ApplicationType, target: Option<String>) -> impl IntoView {
    let lang = lang();
    let session = use_session();
    let flash = use_flash();
    let st = State::new(app_type, target.clone());
    // With card login the company name is the card's: shown read-only (yellow), never edited.
    let verified = session
        .view
        .with_untracked(|s| s.as_ref().and_then(|s| s.company_name.clone()));
    if let Some(name) = &verified {
        st.company_name.set(name.clone());
    }
    st.verified_name.set(verified);
    let ctl = FormCtl::new(move || {
        let form = st.form();
        let mut errors = proto::validate::application(&form)
            .err()
            .unwrap_or_default();
        if form.app_type == ApplicationType::Revoke && form.reason_code.is_none() {
            errors.push(proto::validate::FieldError::new(
                "reason_code",
                proto::validate::FieldCode::Required,
            ));
        }
        errors
    });
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let confirm_open = RwSignal::new(false);
    // Completed applications of this company: the candidates for a target.
    let completed = RwSignal::new(Vec::<ApplicationView>::new());
    let target_app = RwSignal::new(None::<ApplicationView>);

    spawn_local(async move {
        let q = ApplicationQuery {
            status: Some(Status::Completed),
            page_size: proto::api::PAGE_SIZES.last().copied(),
            ..ApplicationQuery::default()
        };
        match api::applications(&q).await {
            Ok(page) => completed.set(page.items),
            Err(e) => error.set(Some(e)),
        }
    });
    // Loading the target pre-fills company and contact; the user edits from there.
    Effect::new(move |_| {
        let t = st.target.get();
        if t.is_empty() || st.app_type() == ApplicationType::New {
            target_app.set(None);
            return;
        }
        spawn_local(async move {
            match api::application(&t).await {
                Ok(a) => {
                    st.fill_from(&a);
                    target_app.set(Some(a));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });

    let is_new = move || st.app_type() == ApplicationType::New;
    let edits_company = move || {
        matches!(
            st.app_type(),
            ApplicationType::New | ApplicationType::Modify | ApplicationType::Renew
        )
    };
    let needs_confirm = move || {
        matches!(
            st.app_type(),
            ApplicationType::Revoke | ApplicationType::Suspend
        )
    };

    // One key per opened form: pressing Submit again after a lost answer (network error,
    // timeout) returns the application already made instead of creating a second one.
    let request_key = StoredValue::new(api::new_request_key());
    let send = move || {
        busy.set(true);
        error.set(None);
        let form = st.form_untracked();
        let key = request_key.get_value();
        spawn_local(async move {
            match api::apply(&form, &key).await {
                Ok(a) => {
                    if let Some(bill) = a.bill.as_ref().filter(|_| a.app_type.issues_certificate())
                    {
                        let (zh, en) = success_message(&bill.bill_no);
                        flash.go(Route::Bill(a.serial.clone()), zh, en);
                    } else {
                        let (zh, en) = (a.app_type.label(Lang::ZhTw), a.app_type.label(Lang::En));
                        flash.go(
                            Route::Applications,
                            format!("{zh}申請已完成，申請序號 {}。", a.serial),
                            format!("{en} request {} completed.", a.serial),
                        );
                    }
                }
                Err(e) => {
                    ctl.set_server(e.fields().to_vec());
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !ctl.submit() {
            return;
        }
        if needs_confirm() {
            confirm_open.set(true);
        } else {
            send();
        }
    };

    let title = move || match st.app_type() {
        ApplicationType::New => pick(lang.get(), "通關專屬憑證申請", "Certificate application"),
        t => match lang.get() {
            Lang::ZhTw => match t {
                ApplicationType::Modify => "憑證資料異動",
                ApplicationType::Renew => "憑證展期",
                ApplicationType::Revoke => "憑證註銷",
                ApplicationType::Suspend => "憑證暫禁",
                _ => "憑證解禁",
            },
            Lang::En => match t {
                ApplicationType::Modify => "Change company or contact",
                ApplicationType::Renew => "Renew certificate",
                ApplicationType::Revoke => "Revoke certificate",
                ApplicationType::Suspend => "Suspend certificate",
                _ => "Unsuspend certificate",
            },
        },
    };

    let target_options = move || {
        let t = st.app_type();
        let want = action_for(t);
        completed.with(|list| {
            list.iter()
                .filter(|a| want.is_some_and(|w| a.actions.contains(&w)))
                .map(|a| (a.serial.clone(), a.cert_name.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
        })
    };

    view! {
        <h1>{title}</h1>
        <p class="note">{tr("標示 * 者為必填欄位。黃色欄位不可修改。", "Fields marked * are required. Yellow fields cannot be changed.")}</p>
        <form on:submit=submit novalidate=true id="apply-form">
            <fieldset class="group">
                <legend>{tr("申請資料", "Application")}</legend>
                <div class="grid">
                    <RadioField ctl=ctl field="app_type" zh="申請類別" en="Application type" value=st.app_type
                        required=true options=radios(ApplicationType::ALL, ApplicationType::code, ApplicationType::label) />
                    <Show when=move || !is_new()>
                        <div class="field" class:invalid=move || ctl.error("target").is_some()>
                            <label for=dom_id("target")>
                                {tr("憑證（原申請序號）", "Certificate (original application)")}
                                <span class="req" aria-hidden="true">"*"</span>
                            </label>
                            <select
                                id=dom_id("target")
                                name="target"
                                required=true
                                aria-describedby=format!("{}-error", dom_id("target"))
                                on:change=move |ev| {
                                    st.target.set(event_target_value(&ev));
                                    ctl.changed("target");
                                    ctl.touch("target");
                                }
                            >
                                <option value="" selected=move || st.target.get().is_empty()>{tr("請選擇", "Please choose")}</option>
                                {move || {
                                    let mut opts = target_options();
                                    let cur = st.target.get();
                                    if !cur.is_empty() && !opts.iter().any(|(s, _)| *s == cur) {
                                        opts.insert(0, (cur.clone(), String::new()));
                                    }
                                    opts.into_iter().map(|(serial, name)| {
                                        let label = if name.is_empty() { serial.clone() } else { format!("{serial} {name}") };
                                        let v = serial.clone();
                                        view! { <option value=serial selected=move || st.target.get() == v>{label}</option> }
                                    }).collect_view()
                                }}
                            </select>
                            <p class="field-error" id=format!("{}-error", dom_id("target"))>
                                {move || ctl.error("target").map(|e| e.message(lang.get()))}
                            </p>
                        </div>
                    </Show>
                </div>
            </fieldset>

            <fieldset class="group">
                <legend>{tr("公司資料", "Company")}</legend>
                <div class="grid">
                    <ReadOnly field="tax_id" zh="統一編號" en="Business tax ID" value=Signal::derive(move || session.tax_id()) />
                    {move || {
                        let ro = !edits_company();
                        view! {
                            <TextField ctl=ctl field="company.name" zh="公司名稱" en="Company name" value=st.company_name required=true
                                readonly={ro || st.verified_name.get().is_some()} autocomplete="organization" />
                            <TextField ctl=ctl field="company.phone" zh="公司電話" en="Company phone" value=st.company_phone kind="tel" readonly=ro />
                            <TextField ctl=ctl field="company.fax" zh="公司傳真" en="Company fax" value=st.company_fax kind="tel" readonly=ro />
                            <TextField ctl=ctl field="company.responsible_person" zh="負責人姓名" en="Responsible person" value=st.responsible_person readonly=ro />
                            <TextField ctl=ctl field="company.responsible_phone" zh="負責人電話" en="Responsible person's phone" value=st.responsible_phone kind="tel" readonly=ro />
                        }
                    }}
                </div>
            </fieldset>

            <fieldset class="group">
                <legend>{tr("聯絡人資料", "Contact")}</legend>
                <div class="grid">
                    {move || {
                        let ro = !edits_company();
                        view! {
                            <TextField ctl=ctl field="contact.name" zh="聯絡人姓名" en="Contact name" value=st.contact_name required=true readonly=ro autocomplete="name" />
                            <TextField ctl=ctl field="contact.phone" zh="聯絡電話" en="Contact phone" value=st.contact_phone required=true kind="tel" readonly=ro autocomplete="tel" />
                            <TextField ctl=ctl field="contact.mobile" zh="行動電話" en="Mobile" value=st.contact_mobile required=true kind="tel" inputmode="numeric" maxlength=10 readonly=ro autocomplete="tel" />
                            <TextField ctl=ctl field="contact.email" zh="電子郵件" en="E-mail" value=st.contact_email required=true kind="email" readonly=ro autocomplete="email" />
                        }
                    }}
                </div>
            </fieldset>

            <fieldset class="group">
                <legend>{tr("憑證資料", "Certificate")}</legend>
                <Show when=is_new fallback=move || view! { <TargetFacts target=target_app /> }>
                    <RadioField ctl=ctl field="customs_office" zh="申請關別" en="Customs office" value=st.office required=true
                        options=radios(CustomsOffice::ALL, CustomsOffice::code, CustomsOffice::label) />
                    <RadioField ctl=ctl field="business_type" zh="業別" en="Business type" value=st.business required=true
                        options=radios(BusinessType::ALL, BusinessType::code, BusinessType::label) />
                    <div class="grid">
                        <TextField ctl=ctl field="box_number" zh="箱號" en="Box number" value=st.box_number required=true maxlength=12 />
                    </div>
                    <RadioField ctl=ctl field="cert_kind" zh="憑證種類" en="Certificate kind" value=st.kind required=true
                        options=vec![
                            ("legal_person", "法人", "Legal person", Some(("公司使用，例如運輸業、倉儲業", "For the company, e.g. carriers and warehouses"))),
                            ("individual", "個人", "Individual", Some(("報關業專責報關人員使用", "For a customs broker's dedicated staff member"))),
                        ] />
                    <div class="grid">
                        {move || {
                            let individual = st.kind.get() == "individual";
                            view! {
                                <TextField ctl=ctl field="staff_code" zh="專責報關人員代碼" en="Broker staff code" value=st.staff_code
                                    required=individual maxlength=12 />
                            }
                        }}
                        <Show when=move || st.kind.get() == "individual">
                            <TextField ctl=ctl field="staff_national_id" zh="專責報關人員身分證字號" en="Staff national ID" value=st.staff_id
                                required=true maxlength=10 />
                        </Show>
                    </div>
                </Show>
            </fieldset>

            <Show when=move || matches!(st.app_type(), ApplicationType::Revoke | ApplicationType::Suspend | ApplicationType::Unsuspend)>
                <fieldset class="group">
                    <legend>{tr("原因", "Reason")}</legend>
                    <Show when=move || st.app_type() == ApplicationType::Revoke>
                        <SelectField ctl=ctl field="reason_code" zh="註銷原因 (RFC 5280)" en="Revocation reason (RFC 5280)"
                            value=st.reason_code required=true options=revocation_reason_options() />
                    </Show>
                    <TextField ctl=ctl field="reason" zh="申請原因" en="Reason" value=st.reason maxlength=200 />
                </fieldset>
            </Show>

            <fieldset class="group">
                <legend>{tr("個人資料蒐集聲明", "Privacy statement")}</legend>
                <div class="privacy" tabindex="0" id="privacy-text">
                    <p>{tr(
                        "財政部關務署為辦理通關專屬憑證之申請、核發、管理及通知，蒐集您填寫之公司及聯絡人資料（包括姓名、電話、行動電話、電子郵件及專責報關人員身分證字號），於憑證有效期間及法定保存期限內，在中華民國境內利用。您得依個人資料保護法行使查詢、更正及刪除等權利；未提供必要資料將無法受理申請。",
                        "The Customs Administration collects the company and contact data you enter (names, phone numbers, mobile, e-mail and the staff national ID) to process, issue, manage and notify about customs dedicated certificates, and uses it in Taiwan for the certificate's lifetime and the legal retention period. You may ask to see, correct or delete it under the Personal Data Protection Act; without the required data the application cannot be processed.",
                    )}</p>
                </div>
                <CheckField ctl=ctl field="privacy_consent" value=st.consent>
                    {tr("我已閱讀並同意個人資料蒐集聲明", "I have read and accept the privacy statement")}
                    <span class="req" aria-hidden="true">"*"</span>
                </CheckField>
            </fieldset>

            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            <Confirm
                open=confirm_open
                zh="註銷後憑證立即失效且無法恢復；暫禁期間憑證無法使用。確定要送出嗎？".to_owned()
                en="A revoked certificate stops working at once and cannot be restored; a suspended one cannot be used until unsuspended. Submit?".to_owned()
                confirm_zh="確定送出"
                confirm_en="Yes, submit"
                danger=true
                on_confirm=Callback::new(move |()| send())
            />
            <div class="buttons">
                <button type="submit" class="primary" id="apply-submit" disabled=move || busy.get()>
                    {tr("申請", "Apply")}
                </button>
                <a class="button" href=Route::Applications.href()>{tr("返回", "Back")}</a>
            </div>
        </form>
    }
}

impl State {
    fn form_untracked(&self) -> ApplicationForm {
        untrack(|| self.form())
    }
}

/// The target's certificate attributes, read-only (they cannot change after issuance).
#[component]
fn TargetFacts(target: RwSignal<Option<ApplicationView>>) -> impl IntoView {
    let lang = lang();
    move || {
        target.get().map(|a| {
            let l = lang.get();
            view! {
                <dl class="facts" id="target-facts">
                    <dt>{pick(l, "憑證名稱", "Certificate name")}</dt>
                    <dd class="mono">{a.cert_name.clone().unwrap_or_default()}</dd>
                    <dt>{pick(l, "憑證序號", "Certificate serial")}</dt>
                    <dd class="mono">{a.certificate.as_ref().map(|c| c.serial_hex.clone()).unwrap_or_default()}</dd>
                    <dt>{pick(l, "憑證狀態", "Certificate status")}</dt>
                    <dd>{a.certificate.as_ref().map(|c| c.status.label(l)).unwrap_or("-")}</dd>
                    <dt>{pick(l, "申請關別", "Customs office")}</dt>
                    <dd>{a.customs_office.label(l)}</dd>
                    <dt>{pick(l, "業別", "Business type")}</dt>
                    <dd>{a.business_type.label(l)}</dd>
                    <dt>{pick(l, "箱號", "Box number")}</dt>
                    <dd>{a.box_number.clone()}</dd>
                    <dt>{pick(l, "憑證種類", "Certificate kind")}</dt>
                    <dd>{a.cert_kind.label(l)}</dd>
                    <dt>{pick(l, "專責報關人員代碼", "Broker staff code")}</dt>
                    <dd>{a.staff_code.clone()}</dd>
                    <dt>{pick(l, "專責報關人員身分證字號", "Staff national ID")}</dt>
                    <dd>{a.staff_national_id_masked.clone()}</dd>
                </dl>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn success_message_is_the_manuals() {
        assert_eq!(
            super::success_message("AAF71259000151").0,
            "申請成功，規費繳款書號碼：AAF71259000151，請列印規費繳款書進行繳費"
        );
    }
}
