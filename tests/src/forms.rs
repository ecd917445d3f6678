//! Application forms that pass every validation rule, and the tax IDs they are filed under.
//! The server's tests, the fault-injection harness and the load generator all file the same
//! applicant's form; a new required field is added here once.

use proto::api::{ApplicationForm, CompanyInput, ContactInput};
use proto::{ApplicationType, BusinessType, CertKind, CustomsOffice};

/// The tests' applicant company (統一編號 with a valid checksum).
pub const TAX_ID: &str = "12345675";
/// A second applicant company, for "not yours" checks.
pub const OTHER_TAX_ID: &str = "04595257";
/// The applicant company's name, as it appears in forms, CSRs and certificates.
pub const COMPANY: &str = "台灣報關股份有限公司";

/// A new-certificate application with every field valid.
pub fn good_form() -> ApplicationForm {
    ApplicationForm {
        app_type: ApplicationType::New,
        target: None,
        company: CompanyInput {
            name: COMPANY.into(),
            phone: "02-25505500#1234".into(),
            fax: String::new(),
            responsible_person: "王大明".into(),
            responsible_phone: String::new(),
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

/// [`good_form`] with another contact e-mail address (one mailbox per applicant).
pub fn form_with_email(email: String) -> ApplicationForm {
    let mut form = good_form();
    form.contact.email = email;
    form
}

/// A form acting on `target` (modify / renew / revoke / suspend / unsuspend).
pub fn targeted_form(app_type: ApplicationType, target: &str) -> ApplicationForm {
    ApplicationForm {
        app_type,
        target: Some(target.into()),
        customs_office: None,
        business_type: None,
        box_number: String::new(),
        cert_kind: None,
        staff_code: String::new(),
        staff_national_id: String::new(),
        reason: "test".into(),
        ..good_form()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_pass_validation() {
        assert!(proto::validate::tax_id(TAX_ID).is_ok());
        assert!(proto::validate::tax_id(OTHER_TAX_ID).is_ok());
        assert!(proto::validate::application(&good_form()).is_ok());
        let email = form_with_email("applicant7@example.com.tw".into());
        assert!(proto::validate::application(&email).is_ok());
    }
}
