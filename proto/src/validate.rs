//! Field rules shared by the server (authoritative) and the browser (inline errors), so both
//! say the same thing for the same input.

use serde::{Deserialize, Serialize};

use crate::api::{ApplicationForm, CompanyInput, ContactInput};
use crate::ids::{IdError, check_national_id, check_tax_id};
use crate::model::{CertKind, Lang};

/// Why a field was refused. Stable wire codes; messages come from [`FieldError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    Required,
    TooLong,
    Format,
    Checksum,
    ConsentRequired,
    Mismatch,
    NotAllowed,
}

/// One refused field: `field` is a dotted path into the submitted JSON (`contact.mobile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldCode,
}

impl FieldError {
    pub fn new(field: &str, code: FieldCode) -> Self {
        FieldError {
            field: field.to_owned(),
            code,
        }
    }

    /// Human text for this error, including the format hint where one helps.
    pub fn message(&self, lang: Lang) -> String {
        let hint = format_hint(&self.field, lang);
        let zh = lang == Lang::ZhTw;
        match self.code {
            FieldCode::Required if zh => "此欄位為必填".into(),
            FieldCode::Required => "This field is required".into(),
            FieldCode::TooLong if zh => "內容過長".into(),
            FieldCode::TooLong => "Too long".into(),
            FieldCode::Format if zh => format!(
                "格式錯誤{}",
                hint.map(|h| format!("，{h}")).unwrap_or_default()
            ),
            FieldCode::Format => format!(
                "Wrong format{}",
                hint.map(|h| format!("; {h}")).unwrap_or_default()
            ),
            FieldCode::Checksum if zh => "檢查碼錯誤，請確認號碼".into(),
            FieldCode::Checksum => "Check digit is wrong; please check the number".into(),
            FieldCode::ConsentRequired if zh => "請閱讀並同意個人資料蒐集聲明".into(),
            FieldCode::ConsentRequired => "Please read and accept the privacy statement".into(),
            FieldCode::Mismatch if self.field == "broker_code" && zh => {
                "與憑證核發時的專責報關人員代碼不符".into()
            }
            FieldCode::Mismatch if self.field == "broker_code" => {
                "Not the broker staff code the certificate was issued with".into()
            }
            FieldCode::Mismatch if zh => "兩次輸入不一致".into(),
            FieldCode::Mismatch => "The two entries do not match".into(),
            FieldCode::NotAllowed if zh => "此申請類別不可使用此欄位".into(),
            FieldCode::NotAllowed => "Not allowed for this application type".into(),
        }
    }
}

/// What a field should look like, shown next to the input and inside format errors.
pub fn format_hint(field: &str, lang: Lang) -> Option<&'static str> {
    let zh = lang == Lang::ZhTw;
    let leaf = field.rsplit('.').next().unwrap_or(field);
    Some(match leaf {
        "tax_id" if zh => "8 位數字統一編號",
        "tax_id" => "8-digit business tax ID",
        "staff_national_id" if zh => "身分證字號或居留證號，例 A123456789",
        "staff_national_id" => "National ID or resident number, e.g. A123456789",
        "mobile" if zh => "手機號碼 09xxxxxxxx",
        "mobile" => "Mobile number 09xxxxxxxx",
        "phone" | "fax" | "responsible_phone" if zh => "例 02-25505500#1234",
        "phone" | "fax" | "responsible_phone" => "e.g. 02-25505500#1234",
        "email" if zh => "例 name@example.com.tw",
        "email" => "e.g. name@example.com.tw",
        "box_number" | "staff_code" if zh => "英文字母或數字",
        "box_number" | "staff_code" => "letters and digits only",
        "password" if zh => "4 至 20 個英文字母或數字",
        "password" => "4 to 20 letters or digits",
        "cer_file" if zh => "單一 X.509 憑證檔 (.cer)",
        "cer_file" => "a single X.509 certificate file (.cer)",
        "new_password" if zh => "至少 12 個字元",
        "new_password" => "at least 12 characters",
        "current_password" if zh => "須為目前使用的密碼",
        "current_password" => "must be the password you use now",
        "file_name" if zh => "僅限英文字母或數字",
        "file_name" => "letters and digits only",
        _ => return None,
    })
}

/// Collects errors while walking a form.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn push(&mut self, field: &str, code: FieldCode) {
        self.0.push(FieldError::new(field, code));
    }

    fn check(&mut self, field: &str, r: Result<(), FieldCode>) {
        if let Err(code) = r {
            self.push(field, code);
        }
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

fn required(s: &str, max_chars: usize) -> Result<(), FieldCode> {
    if s.trim().is_empty() {
        Err(FieldCode::Required)
    } else if s.chars().count() > max_chars {
        Err(FieldCode::TooLong)
    } else {
        Ok(())
    }
}

fn optional(
    s: &str,
    max_chars: usize,
    rule: fn(&str) -> Result<(), FieldCode>,
) -> Result<(), FieldCode> {
    if s.is_empty() {
        Ok(())
    } else if s.chars().count() > max_chars {
        Err(FieldCode::TooLong)
    } else {
        rule(s)
    }
}

fn id_code(e: IdError) -> FieldCode {
    match e {
        IdError::Format => FieldCode::Format,
        IdError::Checksum => FieldCode::Checksum,
    }
}

pub fn tax_id(s: &str) -> Result<(), FieldCode> {
    if s.is_empty() {
        return Err(FieldCode::Required);
    }
    check_tax_id(s).map_err(id_code)
}

pub fn national_id(s: &str) -> Result<(), FieldCode> {
    if s.is_empty() {
        return Err(FieldCode::Required);
    }
    check_national_id(s).map_err(id_code)
}

/// Mobile: `09` then 8 digits, third digit 0-8.
pub fn mobile(s: &str) -> Result<(), FieldCode> {
    if s.is_empty() {
        return Err(FieldCode::Required);
    }
    let b = s.as_bytes();
    let ok = b.len() == 10
        && b.starts_with(b"09")
        && (b'0'..=b'8').contains(&b[2])
        && b.iter().all(u8::is_ascii_digit);
    if ok { Ok(()) } else { Err(FieldCode::Format) }
}

/// Landline `0A-NNNNNNNN` with a 1-3 digit area code after the 0, a 5-8 digit number and an
/// optional `#extension` of up to 6 digits (02-25505500#1234); a mobile number is also accepted.
pub fn phone(s: &str) -> Result<(), FieldCode> {
    if s.is_empty() {
        return Err(FieldCode::Required);
    }
    if mobile(s).is_ok() {
        return Ok(());
    }
    let (main, ext) = match s.split_once('#') {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let digits = |x: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&x.len()) && x.bytes().all(|c| c.is_ascii_digit())
    };
    let ok = match main.split_once('-') {
        Some((area, number)) => area.starts_with('0') && digits(area, 2, 4) && digits(number, 5, 8),
        None => false,
    } && ext.is_none_or(|e| digits(e, 1, 6));
    if ok { Ok(()) } else { Err(FieldCode::Format) }
}

/// A deliberately plain e-mail check: one `@`, a non-empty local part, a dotted domain of
/// letters, digits and hyphens, no spaces. The mail server has the last word.
pub fn email(s: &str) -> Result<(), FieldCode> {
    if s.is_empty() {
        return Err(FieldCode::Required);
    }
    if s.len() > 254 {
        return Err(FieldCode::TooLong);
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err(FieldCode::Format);
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(FieldCode::Format)
    }
}

fn alnum(s: &str, max: usize) -> Result<(), FieldCode> {
    if s.is_empty() {
        Err(FieldCode::Required)
    } else if s.len() > max {
        Err(FieldCode::TooLong)
    } else if s.bytes().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(FieldCode::Format)
    }
}

/// 箱號: letters and digits, up to 12.
pub fn box_number(s: &str) -> Result<(), FieldCode> {
    alnum(s, 12)
}

/// 報關專責人員代碼: letters and digits, up to 12.
pub fn staff_code(s: &str) -> Result<(), FieldCode> {
    alnum(s, 12)
}

/// PFX password: 4-20 ASCII letters or digits (what the original component allowed, and
/// what every PKCS#12 reader handles the same way).
pub fn pfx_password(s: &str) -> Result<(), FieldCode> {
    if s.is_empty() {
        return Err(FieldCode::Required);
    }
    if s.len() < 4 || s.len() > 20 || !s.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(FieldCode::Format);
    }
    Ok(())
}

/// Password and its confirmation.
pub fn pfx_password_pair(password: &str, confirm: &str) -> Result<(), Vec<FieldError>> {
    let mut e = Errors::default();
    e.check("password", pfx_password(password));
    if password != confirm {
        e.push("password_confirm", FieldCode::Mismatch);
    }
    e.into_result()
}

/// Download file name (without extension): letters and digits only, up to 64.
pub fn file_name(s: &str) -> Result<(), FieldCode> {
    alnum(s, 64)
}

pub fn company(c: &CompanyInput, e: &mut Errors) {
    e.check("company.name", required(&c.name, 60));
    e.check("company.phone", optional(&c.phone, 30, phone));
    e.check("company.fax", optional(&c.fax, 30, phone));
    e.check(
        "company.responsible_person",
        optional(&c.responsible_person, 30, |_| Ok(())),
    );
    e.check(
        "company.responsible_phone",
        optional(&c.responsible_phone, 30, phone),
    );
}

pub fn contact(c: &ContactInput, e: &mut Errors) {
    e.check("contact.name", required(&c.name, 30));
    e.check(
        "contact.phone",
        required(&c.phone, 30).and_then(|()| phone(&c.phone)),
    );
    e.check("contact.mobile", mobile(&c.mobile));
    e.check("contact.email", email(&c.email));
}

/// Every rule of the application form. The tax ID is not part of the form: it comes from
/// the logged-in identity.
pub fn application(f: &ApplicationForm) -> Result<(), Vec<FieldError>> {
    let mut e = Errors::default();
    company(&f.company, &mut e);
    contact(&f.contact, &mut e);
    e.check("reason", optional(&f.reason, 200, |_| Ok(())));
    if f.app_type.needs_target() {
        if f.target.as_deref().is_none_or(str::is_empty) {
            e.push("target", FieldCode::Required);
        }
    } else {
        // Only `new` carries certificate attributes; the other types copy them from the target.
        if f.target.as_deref().is_some_and(|t| !t.is_empty()) {
            e.push("target", FieldCode::NotAllowed);
        }
        if f.customs_office.is_none() {
            e.push("customs_office", FieldCode::Required);
        }
        if f.business_type.is_none() {
            e.push("business_type", FieldCode::Required);
        }
        e.check("box_number", box_number(&f.box_number));
        match f.cert_kind {
            None => e.push("cert_kind", FieldCode::Required),
            Some(CertKind::Individual) => {
                e.check("staff_code", staff_code(&f.staff_code));
                e.check("staff_national_id", national_id(&f.staff_national_id));
            }
            Some(CertKind::LegalPerson) => {
                if !f.staff_code.is_empty() {
                    e.check("staff_code", staff_code(&f.staff_code));
                }
                if !f.staff_national_id.is_empty() {
                    e.push("staff_national_id", FieldCode::NotAllowed);
                }
            }
        }
    }
    if !f.privacy_consent {
        e.push("privacy_consent", FieldCode::ConsentRequired);
    }
    e.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApplicationType, BusinessType, CustomsOffice};

    pub(crate) fn good_form() -> ApplicationForm {
        ApplicationForm {
            app_type: ApplicationType::New,
            target: None,
            company: CompanyInput {
                name: "台灣報關股份有限公司".into(),
                phone: "02-25505500#1234".into(),
                fax: "".into(),
                responsible_person: "王大明".into(),
                responsible_phone: "".into(),
            },
            contact: ContactInput {
                name: "陳小華".into(),
                phone: "02-25505500".into(),
                mobile: "0912345678".into(),
                email: "chen@example.com.tw".into(),
            },
            customs_office: Some(CustomsOffice::Keelung),
            business_type: Some(BusinessType::Broker),
            box_number: "B00051".into(),
            cert_kind: Some(CertKind::Individual),
            staff_code: "K1234".into(),
            staff_national_id: "A123456789".into(),
            privacy_consent: true,
            reason: String::new(),
            reason_code: None,
        }
    }

    fn fields(f: &ApplicationForm) -> Vec<(String, FieldCode)> {
        match application(f) {
            Ok(()) => vec![],
            Err(v) => v.into_iter().map(|e| (e.field, e.code)).collect(),
        }
    }

    #[test]
    fn good_form_passes() {
        assert_eq!(fields(&good_form()), vec![]);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Case = (fn(&mut ApplicationForm), &'static str, FieldCode);
        let cases: Vec<Case> = vec![
            (
                |f| f.company.name.clear(),
                "company.name",
                FieldCode::Required,
            ),
            (
                |f| f.company.name = "名".repeat(61),
                "company.name",
                FieldCode::TooLong,
            ),
            (
                |f| f.company.phone = "2550-5500".into(),
                "company.phone",
                FieldCode::Format,
            ),
            (
                |f| f.contact.mobile = "0912-345678".into(),
                "contact.mobile",
                FieldCode::Format,
            ),
            (
                |f| f.contact.mobile = "0992345678".into(),
                "contact.mobile",
                FieldCode::Format,
            ),
            (
                |f| f.contact.mobile.clear(),
                "contact.mobile",
                FieldCode::Required,
            ),
            (
                |f| f.contact.email = "chen@example".into(),
                "contact.email",
                FieldCode::Format,
            ),
            (
                |f| f.contact.phone.clear(),
                "contact.phone",
                FieldCode::Required,
            ),
            (
                |f| f.box_number = "B-51".into(),
                "box_number",
                FieldCode::Format,
            ),
            (
                |f| f.staff_national_id = "A123456788".into(),
                "staff_national_id",
                FieldCode::Checksum,
            ),
            (
                |f| f.staff_national_id = "A12345678".into(),
                "staff_national_id",
                FieldCode::Format,
            ),
            (|f| f.staff_code.clear(), "staff_code", FieldCode::Required),
            (
                |f| f.customs_office = None,
                "customs_office",
                FieldCode::Required,
            ),
            (
                |f| f.business_type = None,
                "business_type",
                FieldCode::Required,
            ),
            (|f| f.cert_kind = None, "cert_kind", FieldCode::Required),
            (
                |f| f.privacy_consent = false,
                "privacy_consent",
                FieldCode::ConsentRequired,
            ),
            (
                |f| f.target = Some("X1".into()),
                "target",
                FieldCode::NotAllowed,
            ),
            (
                |f| f.app_type = ApplicationType::Revoke,
                "target",
                FieldCode::Required,
            ),
        ];
        for (mutate, field, code) in cases {
            let mut f = good_form();
            mutate(&mut f);
            assert_eq!(fields(&f), vec![(field.to_owned(), code)], "{field}");
        }
    }

    #[test]
    fn legal_person_needs_no_staff_and_refuses_a_national_id() {
        let mut f = good_form();
        f.cert_kind = Some(CertKind::LegalPerson);
        f.staff_code.clear();
        f.staff_national_id.clear();
        assert_eq!(fields(&f), vec![]);
        f.staff_national_id = "A123456789".into();
        assert_eq!(
            fields(&f),
            vec![("staff_national_id".into(), FieldCode::NotAllowed)]
        );
    }

    #[test]
    fn targeted_types_ignore_certificate_attributes() {
        let mut f = good_form();
        f.app_type = ApplicationType::Suspend;
        f.target = Some("SW11511240000001".into());
        f.customs_office = None;
        f.cert_kind = None;
        f.box_number.clear();
        assert_eq!(fields(&f), vec![]);
    }

    #[test]
    fn phones() {
        for ok in [
            "02-25505500",
            "02-25505500#1234",
            "037-123456",
            "0912345678",
            "049-2345678#1",
        ] {
            assert_eq!(phone(ok), Ok(()), "{ok}");
        }
        for bad in [
            "2-25505500",
            "02-2550",
            "02-25505500#",
            "02-25505500#1234567",
            "02 25505500",
            "(02)25505500",
            "02-2550-5500",
        ] {
            assert_eq!(phone(bad), Err(FieldCode::Format), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b.tw", "first.last+tag@mail.example.com.tw"] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
        for bad in [
            "a", "a@b", "@b.tw", "a@@b.tw", "a b@c.tw", "a@-b.tw", "a@b..tw", ".a@b.tw", "陳@b.tw",
        ] {
            assert_eq!(email(bad), Err(FieldCode::Format), "{bad}");
        }
    }

    #[test]
    fn passwords_and_file_names() {
        assert_eq!(pfx_password("abcd"), Ok(()));
        assert_eq!(pfx_password("a1B2c3D4e5F6g7H8i9J0"), Ok(()));
        assert_eq!(pfx_password(""), Err(FieldCode::Required));
        assert_eq!(pfx_password("abc"), Err(FieldCode::Format));
        assert_eq!(
            pfx_password("a1B2c3D4e5F6g7H8i9J0x"),
            Err(FieldCode::Format)
        );
        assert_eq!(pfx_password("abc d"), Err(FieldCode::Format));
        assert_eq!(pfx_password("pässwörd"), Err(FieldCode::Format));
        assert_eq!(pfx_password_pair("abcd", "abcd"), Ok(()));
        assert_eq!(
            pfx_password_pair("abcd", "abce"),
            Err(vec![FieldError::new(
                "password_confirm",
                FieldCode::Mismatch
            )])
        );
        assert_eq!(file_name("SingleWindow01"), Ok(()));
        assert_eq!(file_name("Single-Window"), Err(FieldCode::Format));
        assert_eq!(file_name("../etc"), Err(FieldCode::Format));
        assert_eq!(file_name(""), Err(FieldCode::Required));
        assert_eq!(file_name(&"a".repeat(65)), Err(FieldCode::TooLong));
    }

    #[test]
    fn messages_carry_hints_in_both_languages() {
        let e = FieldError::new("contact.mobile", FieldCode::Format);
        assert!(e.message(Lang::ZhTw).contains("09xxxxxxxx"));
        assert!(e.message(Lang::En).contains("09xxxxxxxx"));
        assert_eq!(
            FieldError::new("x", FieldCode::Checksum).message(Lang::En),
            "Check digit is wrong; please check the number"
        );
    }
}
