//! Labelled inputs with format hints and inline errors. Errors come from the same
//! `proto::validate` rules the server applies. A text field shows its error from the first
//! submit on (then live while typing), not on blur: an error appearing on blur moves the
//! submit button under a pointer that is pressing it, and the click is lost. Choices
//! (select, radio, checkbox) show theirs as soon as they change. Server-side field errors
//! stay until the field changes.

use std::collections::HashSet;

use leptos::prelude::*;
use proto::validate::{FieldError, format_hint};

use crate::i18n::{lang, pick, tr};

/// DOM id of a form field (`contact.mobile` → `f-contact-mobile`).
pub fn dom_id(field: &str) -> String {
    format!("f-{}", field.replace(['.', '_'], "-"))
}

/// Error state of one form.
#[derive(Clone, Copy)]
pub struct FormCtl {
    client: Signal<Vec<FieldError>>,
    server: RwSignal<Vec<FieldError>>,
    touched: RwSignal<HashSet<String>>,
    submitted: RwSignal<bool>,
}

impl FormCtl {
    /// `rules` recomputes the client-side errors from the form's signals.
    pub fn new(rules: impl Fn() -> Vec<FieldError> + Send + Sync + 'static) -> Self {
        FormCtl {
            client: Signal::derive(rules),
            server: RwSignal::new(Vec::new()),
            touched: RwSignal::new(HashSet::new()),
            submitted: RwSignal::new(false),
        }
    }

    /// The error to show for `field` now, if any.
    pub fn error(&self, field: &str) -> Option<FieldError> {
        let shown = self.submitted.get() || self.touched.with(|t| t.contains(field));
        if shown
            && let Some(e) = self
                .client
                .with(|v| v.iter().find(|e| e.field == field).cloned())
        {
            return Some(e);
        }
        self.server
            .with(|v| v.iter().find(|e| e.field == field).cloned())
    }

    // Blur also fires while a page is being torn down, after its signals were disposed:
    // the `try_` reads make that a no-op instead of a panic.
    pub fn touch(&self, field: &str) {
        if self.touched.try_with_untracked(|t| !t.contains(field)) == Some(true) {
            self.touched.update(|t| {
                t.insert(field.to_owned());
            });
        }
    }

    /// A field changed: its server-side error no longer applies.
    pub fn changed(&self, field: &str) {
        if self
            .server
            .try_with_untracked(|v| v.iter().any(|e| e.field == field))
            == Some(true)
        {
            self.server.update(|v| v.retain(|e| e.field != field));
        }
    }

    /// Marks the form submitted; returns whether it is valid. On errors, focuses the first
    /// invalid field so keyboard and screen-reader users land on it.
    pub fn submit(&self) -> bool {
        self.submitted.set(true);
        self.server.set(Vec::new());
        let errors = self.client.get_untracked();
        match errors.first() {
            None => true,
            Some(first) => {
                focus(&dom_id(&first.field));
                false
            }
        }
    }

    /// Shows the server's per-field errors (422 `validation_failed`).
    pub fn set_server(&self, errors: Vec<FieldError>) {
        if let Some(first) = errors.first() {
            focus(&dom_id(&first.field));
        }
        self.server.set(errors);
    }

    pub fn reset(&self) {
        self.submitted.set(false);
        self.touched.set(HashSet::new());
        self.server.set(Vec::new());
    }
}

/// Moves keyboard focus to the element with `id` (after the current render).
pub fn focus(id: &str) {
    let id = id.to_owned();
    let run = move || {
        if let Some(el) = document().get_element_by_id(&id)
            && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
        {
            let _ = el.focus();
        }
    };
    // After the current event and render, so the element exists and a click's own focus
    // change is over.
    set_timeout(run, std::time::Duration::ZERO);
}

/// Label text with the required mark.
#[component]
fn LabelText(zh: &'static str, en: &'static str, required: bool) -> impl IntoView {
    view! {
        {tr(zh, en)}
        {required.then(|| view! {
            <span class="req" aria-hidden="true">"*"</span>
            <span class="sr-only">{tr("（必填）", " (required)")}</span>
        })}
    }
}

/// Hint under a field: the shared format hint for the field's last path segment, or `hint`.
fn hint_text(
    field: &'static str,
    hint: Option<(&'static str, &'static str)>,
) -> impl Fn() -> Option<String> {
    let lang = lang();
    move || match hint {
        Some((zh, en)) => Some(pick(lang.get(), zh, en).to_owned()),
        None => format_hint(field, lang.get()).map(str::to_owned),
    }
}

fn has_hint(field: &str, hint: Option<(&'static str, &'static str)>) -> bool {
    hint.is_some() || format_hint(field, proto::Lang::ZhTw).is_some()
}

fn describedby(id: &str, hint: bool) -> String {
    if hint {
        format!("{id}-hint {id}-error")
    } else {
        format!("{id}-error")
    }
}

#[component]
fn ErrorText(ctl: FormCtl, field: &'static str, id: String) -> impl IntoView {
    let lang = lang();
    view! {
        <p class="field-error" id=format!("{id}-error")>
            {move || ctl.error(field).map(|e| e.message(lang.get()))}
        </p>
    }
}

/// A text-like input (`kind`: text, email, tel, password, date).
#[component]
pub fn TextField(
    ctl: FormCtl,
    field: &'static str,
    zh: &'static str,
    en: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] inputmode: &'static str,
    #[prop(optional)] maxlength: Option<u32>,
    /// A hint other than the shared format hint.
    #[prop(optional)]
    hint: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    let id = dom_id(field);
    let show_hint = has_hint(field, hint) && !readonly;
    let hint_view = show_hint.then(|| {
        let text = hint_text(field, hint);
        view! { <p class="hint" id=format!("{id}-hint")>{text}</p> }
    });
    view! {
        <div class="field" class:invalid=move || ctl.error(field).is_some()>
            <label for=id.clone()>
                <LabelText zh=zh en=en required=required />
            </label>
            <input
                id=id.clone()
                name=field
                type=kind
                class:readonly=readonly
                readonly=readonly
                required=required
                autocomplete=autocomplete
                inputmode=(!inputmode.is_empty()).then_some(inputmode)
                maxlength=maxlength
                aria-invalid=move || if ctl.error(field).is_some() { "true" } else { "false" }
                aria-describedby=describedby(&id, show_hint)
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    ctl.changed(field);
                }
            />
            {hint_view}
            <ErrorText ctl=ctl field=field id=id.clone() />
        </div>
    }
}

/// The RFC 5280 reasons a revocation may give, as select options (code, zh, en).
pub fn revocation_reason_options() -> Vec<(&'static str, &'static str, &'static str)> {
    proto::RevocationReason::REVOCATION
        .iter()
        .map(|r| {
            (
                r.code(),
                r.label(proto::Lang::ZhTw),
                r.label(proto::Lang::En),
            )
        })
        .collect()
}

/// A `<select>` over `(code, zh, en)` options with an empty "please choose" first.
#[component]
pub fn SelectField(
    ctl: FormCtl,
    field: &'static str,
    zh: &'static str,
    en: &'static str,
    value: RwSignal<String>,
    options: Vec<(&'static str, &'static str, &'static str)>,
    #[prop(optional)] required: bool,
    #[prop(optional)] disabled: Signal<bool>,
    /// Label of the empty first option (default 請選擇 / Please choose).
    #[prop(optional)]
    empty: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    let id = dom_id(field);
    let lang = lang();
    let (ez, ee) = empty.unwrap_or(("請選擇", "Please choose"));
    view! {
        <div class="field" class:invalid=move || ctl.error(field).is_some()>
            <label for=id.clone()>
                <LabelText zh=zh en=en required=required />
            </label>
            <select
                id=id.clone()
                name=field
                required=required
                disabled=move || disabled.get()
                aria-invalid=move || if ctl.error(field).is_some() { "true" } else { "false" }
                aria-describedby=format!("{id}-error")
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    ctl.changed(field);
                    ctl.touch(field);
                }
            >
                <option value="" selected=move || value.get().is_empty()>
                    {move || pick(lang.get(), ez, ee)}
                </option>
                {options
                    .into_iter()
                    .map(|(code, z, e)| {
                        view! {
                            <option value=code selected=move || value.get() == code>
                                {move || pick(lang.get(), z, e)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <ErrorText ctl=ctl field=field id=id.clone() />
        </div>
    }
}

/// `(code, zh, en, optional one-line explanation (zh, en))`.
pub type RadioOption = (
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// A group of radio buttons in a fieldset; each option may carry a one-line explanation.
#[component]
pub fn RadioField(
    ctl: FormCtl,
    field: &'static str,
    zh: &'static str,
    en: &'static str,
    value: RwSignal<String>,
    options: Vec<RadioOption>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let id = dom_id(field);
    let lang = lang();
    view! {
        <fieldset
            class="field radios"
            id=id.clone()
            class:invalid=move || ctl.error(field).is_some()
            aria-describedby=format!("{id}-error")
        >
            <legend>
                <LabelText zh=zh en=en required=required />
            </legend>
            {options
                .into_iter()
                .map(|(code, z, e, note)| {
                    let opt_id = format!("{id}-{}", code.replace('_', "-"));
                    view! {
                        <div class="radio">
                            <input
                                type="radio"
                                id=opt_id.clone()
                                name=field
                                value=code
                                prop:checked=move || value.get() == code
                                on:change=move |_| {
                                    value.set(code.to_owned());
                                    ctl.changed(field);
                                    ctl.touch(field);
                                }
                            />
                            <label for=opt_id>
                                {move || pick(lang.get(), z, e)}
                                {note.map(|(nz, ne)| view! {
                                    <span class="note">{move || pick(lang.get(), nz, ne)}</span>
                                })}
                            </label>
                        </div>
                    }
                })
                .collect_view()}
            <ErrorText ctl=ctl field=field id=id.clone() />
        </fieldset>
    }
}

/// A single checkbox (e.g. the privacy consent); its label is the children.
#[component]
pub fn CheckField(
    ctl: FormCtl,
    field: &'static str,
    value: RwSignal<bool>,
    children: Children,
) -> impl IntoView {
    let id = dom_id(field);
    view! {
        <div class="field check" class:invalid=move || ctl.error(field).is_some()>
            <input
                type="checkbox"
                id=id.clone()
                name=field
                aria-invalid=move || if ctl.error(field).is_some() { "true" } else { "false" }
                aria-describedby=format!("{id}-error")
                prop:checked=move || value.get()
                on:change=move |ev| {
                    value.set(event_target_checked(&ev));
                    ctl.changed(field);
                    ctl.touch(field);
                }
            />
            <label for=id.clone()>{children()}</label>
            <ErrorText ctl=ctl field=field id=id.clone() />
        </div>
    }
}

/// A read-only value shown like a field (yellow in the original DC02 screen).
#[component]
pub fn ReadOnly(
    field: &'static str,
    zh: &'static str,
    en: &'static str,
    value: Signal<String>,
) -> impl IntoView {
    let id = dom_id(field);
    view! {
        <div class="field">
            <label for=id.clone()>{tr(zh, en)}</label>
            <input id=id type="text" class="readonly" readonly=true prop:value=move || value.get() />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::dom_id;

    #[test]
    fn dom_ids_are_stable_and_css_safe() {
        assert_eq!(dom_id("contact.mobile"), "f-contact-mobile");
        assert_eq!(dom_id("staff_national_id"), "f-staff-national-id");
        assert_eq!(
            dom_id("company.responsible_phone"),
            "f-company-responsible-phone"
        );
    }
}
