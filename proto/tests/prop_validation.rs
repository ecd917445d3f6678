//! Property tests of the form rules (issue 7, bad input): random and mutated input never
//! panics, well-formed values of each documented shape are accepted, refusals name a field
//! of the form and render in both languages. The libFuzzer counterpart is
//! `fuzz/fuzz_targets/form_validate.rs`; its seeds and any regression inputs are replayed
//! here so CI keeps them fixed without a nightly toolchain.
// A failed assertion is the finding; unwrapping in helpers is a test failure too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use proptest::prelude::*;
use proto::api::ApplicationForm;
use proto::model::{ApplicationType, BusinessType, CertKind, CustomsOffice, Lang};
use proto::validate::{self, FieldCode};

type Rule = fn(&str) -> Result<(), FieldCode>;

const RULES: &[(&str, Rule)] = &[
    ("tax_id", validate::tax_id),
    ("national_id", validate::national_id),
    ("mobile", validate::mobile),
    ("phone", validate::phone),
    ("email", validate::email),
    ("box_number", validate::box_number),
    ("staff_code", validate::staff_code),
    ("pfx_password", validate::pfx_password),
    ("file_name", validate::file_name),
];

/// Every field path `validate::application` may report.
const FORM_FIELDS: &[&str] = &[
    "company.name",
    "company.phone",
    "company.fax",
    "company.responsible_person",
    "company.responsible_phone",
    "contact.name",
    "contact.phone",
    "contact.mobile",
    "contact.email",
    "reason",
    "target",
    "customs_office",
    "business_type",
    "box_number",
    "cert_kind",
    "staff_code",
    "staff_national_id",
    "privacy_consent",
];

/// What every accepted single-field value has in common: non-empty, no control or space
/// characters, at most 254 bytes (the e-mail bound, the longest of them).
fn check_rules(s: &str) {
    for (name, rule) in RULES {
        match rule(s) {
            Ok(()) => {
                assert!(!s.is_empty(), "{name} accepted an empty value");
                assert!(s.len() <= 254, "{name} accepted {} bytes", s.len());
                assert!(
                    !s.chars().any(|c| c.is_control() || c.is_whitespace()),
                    "{name} accepted {s:?}"
                );
            }
            Err(FieldCode::Required) => assert!(s.is_empty(), "{name}: Required for {s:?}"),
            Err(_) => {}
        }
    }
}

fn check_form(form: &ApplicationForm) {
    if let Err(errors) = validate::application(form) {
        assert!(!errors.is_empty());
        for e in &errors {
            assert!(
                FORM_FIELDS.contains(&e.field.as_str()),
                "unknown field {}",
                e.field
            );
            assert!(!e.message(Lang::ZhTw).is_empty());
            assert!(!e.message(Lang::En).is_empty());
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut out = Vec::new();
    for dir in ["corpus/form_validate", "regressions/form_validate"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            out.push(std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    out
}

#[test]
fn fuzz_seeds_and_regressions_replay() {
    let seeds = seeds();
    assert!(seeds.len() >= 4, "fuzz/corpus/form_validate has the seeds");
    let mut forms = 0;
    for data in &seeds {
        check_rules(&String::from_utf8_lossy(data));
        if let Ok(form) = serde_json::from_slice::<ApplicationForm>(data) {
            forms += 1;
            check_form(&form);
        }
    }
    assert!(forms >= 2, "the JSON seeds parse as forms");
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,40}",
        "[0-9A-Za-z#@.\\-+]{0,30}",
        "[\\u{0}-\\u{2f}0-9\\u{fe0f}\\u{3000}台]{0,16}",
    ]
}

fn option_of<T: Clone + std::fmt::Debug + 'static>(
    all: &'static [T],
) -> impl Strategy<Value = Option<T>> {
    prop::option::of(prop::sample::select(all))
}

prop_compose! {
    fn form()(
        app_type in prop::sample::select(ApplicationType::ALL),
        target in prop::option::of(text()),
        strings in prop::collection::vec(text(), 13),
        customs_office in option_of(CustomsOffice::ALL),
        business_type in option_of(BusinessType::ALL),
        cert_kind in option_of(CertKind::ALL),
        privacy_consent in any::<bool>(),
    ) -> ApplicationForm {
        let mut s = strings.into_iter();
        let mut next = || s.next().unwrap_or_default();
        ApplicationForm {
            app_type,
            target,
            company: proto::api::CompanyInput {
                name: next(), phone: next(), fax: next(), responsible_person: next(),
                responsible_phone: next(),
            },
            contact: proto::api::ContactInput {
                name: next(), phone: next(), mobile: next(), email: next(),
            },
            customs_office,
            business_type,
            box_number: next(),
            cert_kind,
            staff_code: next(),
            staff_national_id: next(),
            privacy_consent,
            reason: next(),
            reason_code: None,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn single_field_rules_never_panic(s in text()) {
        check_rules(&s);
        let _ = validate::pfx_password_pair(&s, &s);
    }

    #[test]
    fn valid_shapes_are_accepted(
        mobile in "09[0-8][0-9]{7}",
        phone in "0[0-9]{1,3}-[0-9]{5,8}(#[0-9]{1,6})?",
        email in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]@[a-z0-9]{1,10}(\\.[a-z]{2,6}){1,3}",
        alnum in "[A-Za-z0-9]{1,12}",
        password in "[A-Za-z0-9]{4,20}",
    ) {
        prop_assert_eq!(validate::mobile(&mobile), Ok(()));
        prop_assert_eq!(validate::phone(&mobile), Ok(()));
        prop_assert_eq!(validate::phone(&phone), Ok(()));
        prop_assume!(!email.contains(".."));
        prop_assert_eq!(validate::email(&email), Ok(()));
        prop_assert_eq!(validate::box_number(&alnum), Ok(()));
        prop_assert_eq!(validate::staff_code(&alnum), Ok(()));
        prop_assert_eq!(validate::file_name(&alnum), Ok(()));
        prop_assert_eq!(validate::pfx_password(&password), Ok(()));
        prop_assert!(validate::pfx_password_pair(&password, &password).is_ok());
        let other = format!("{password}x");
        let mismatch = validate::pfx_password_pair(&password, &other).unwrap_err();
        prop_assert!(mismatch.iter().any(|e| e.field == "password_confirm" && e.code == FieldCode::Mismatch));
    }

    #[test]
    fn random_forms_give_named_errors(f in form()) {
        check_form(&f);
        // What the server receives is JSON: the same form after a round trip gives the same verdict.
        let json = serde_json::to_vec(&f).unwrap_or_default();
        let back: ApplicationForm = serde_json::from_slice(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(validate::application(&back), validate::application(&f));
    }

    #[test]
    fn mutated_seed_json_never_panics(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let seeds = seeds();
        prop_assume!(!seeds.is_empty());
        let mut data = seeds[pick.index(seeds.len())].clone();
        prop_assume!(!data.is_empty());
        for (at, byte) in edits {
            let i = at.index(data.len());
            data[i] = byte;
        }
        check_rules(&String::from_utf8_lossy(&data));
        if let Ok(form) = serde_json::from_slice::<ApplicationForm>(&data) {
            check_form(&form);
        }
    }
}
