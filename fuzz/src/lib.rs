//! Bodies of the fuzz targets. Each takes arbitrary bytes, feeds them to one of the portal's
//! parsers or validators and asserts what must hold for every input: no panic, and for the
//! inputs that are accepted, the invariants listed at each function (a round trip, a bound).
//!
//! The libFuzzer binaries in `fuzz_targets/` call these; `tests/replay.rs` runs the same
//! bodies on stable over `corpus/` and `regressions/`, so a crash once found stays fixed.
//!
//! Panics here are the point: an `assert!` that fails is a finding, so the usual
//! no-unwrap rule of production code does not apply to this crate.

use std::sync::OnceLock;

use ca::{Ca, Profile, Serial};
use proto::api::ApplicationForm;
use proto::model::Lang;
use proto::validate;
use time::macros::datetime;
use wasm_keygen::{Certificate, PfxRequest, PrivateKey};

/// Every target, by name (the file names in `fuzz_targets/` and the corpus folders).
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("csr_check", csr_check),
    ("csr_pem", csr_pem),
    ("cert_inspect", cert_inspect),
    ("keygen_cert", keygen_cert),
    ("keygen_key", keygen_key),
    ("pfx_build", pfx_build),
    ("form_validate", form_validate),
    ("csv_import", csv_import),
];

/// Separator between the parts of a `pfx_build` input:
/// `profile SEP password SEP friendly_name SEP certificate [SEP chain entry]...`.
pub const PFX_SEP: &[u8] = b"\n=====\n";

/// Read at run time, not with `include_bytes!`: `examples/make_seeds` (which links this
/// library) is what writes them.
fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run the make_seeds example)", path.display()))
}

/// The fixed test CA the seeds were issued by (fixtures/, written by `examples/make_seeds`).
pub fn test_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        let cert = String::from_utf8(fixture("ca.crt.pem")).expect("PEM is text");
        let key = String::from_utf8(fixture("ca.key.pem")).expect("PEM is text");
        Ca::from_pem(&cert, &key).expect("fixtures/ca.*.pem load")
    })
}

fn leaf_key() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| fixture("leaf-p256.pk8"))
}

/// The CA's test profile (shared with the CA's tests through the test kit).
pub use testkit::certs::profile;

/// CSR DER as uploaded → `check_csr`. An accepted CSR must yield a key the CA can issue a
/// certificate for, and that certificate must read back as ours with the same key.
pub fn csr_check(data: &[u8]) {
    let ca = test_ca();
    let profile = profile();
    let Ok(checked) = ca.check_csr(&profile, data) else {
        return;
    };
    // The refusal of P-256 must hold for a profile that does not allow it.
    let no_ec = Profile {
        allow_ec_p256: false,
        ..profile.clone()
    };
    let again = ca.check_csr(&no_ec, data);
    match checked.key {
        ca::KeyInfo::EcP256 => assert!(again.is_err(), "P-256 accepted with allow_ec_p256=false"),
        ca::KeyInfo::Rsa { bits } => {
            assert!(matches!(bits, 2048 | 3072 | 4096), "RSA size {bits} accepted");
            assert_eq!(again.as_ref().ok(), Some(&checked));
        }
    }
    let now = datetime!(2026-01-01 00:00 UTC);
    let cert = ca
        .issue(
            &profile,
            &testkit::certs::request(
                checked.spki_der.clone(),
                Serial([0x11; 16]),
                now,
                testkit::certs::leaf_subject("Fuzz"),
            ),
        )
        .expect("an accepted CSR key must be issuable");
    let info = ca.inspect_issued(&cert).expect("own certificate reads back");
    assert_eq!(info.spki_der, checked.spki_der);
}

/// CSR PEM text as pasted into the form → `csr_pem_to_der` → [`csr_check`].
pub fn csr_pem(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(der) = ca::csr_pem_to_der(text) {
        csr_check(&der);
    }
}

/// A registration upload (`.cer`, DER) → `inspect_issued`, and the browser's certificate
/// reader on the same bytes. Accepted certificates must keep their public key.
pub fn cert_inspect(data: &[u8]) {
    let ca = test_ca();
    let ours = ca.inspect_issued(data);
    let browser = Certificate::from_der(data.to_vec());
    if let Ok(info) = &ours {
        // Anything the CA accepts as its own, the PFX builder must be able to read.
        let c = browser.expect("CA-accepted certificate refused by wasm-keygen");
        assert_eq!(c.spki(), info.spki_der.as_slice());
    }
}

/// Certificate file chosen in the PFX page: PEM (one or more blocks) or DER.
/// Every accepted certificate must survive DER → PEM → DER unchanged.
pub fn keygen_cert(data: &[u8]) {
    if let Ok(all) = Certificate::parse_all(data) {
        assert!(!all.is_empty());
        for c in &all {
            let pem = c.to_pem();
            let back = Certificate::parse(pem.as_bytes()).expect("own PEM reads back");
            assert_eq!(&back, c);
            assert_eq!(
                wasm_keygen::certificate_to_pem(c.der()).expect("DER reads back"),
                pem
            );
        }
    }
    let _ = wasm_keygen::certificate_to_der(data);
}

/// PKCS#8 private key (as WebCrypto exports it) and SPKI parsing. An accepted key must
/// re-encode to a key with the same public key.
pub fn keygen_key(data: &[u8]) {
    let _ = wasm_keygen::encoding::parse_spki(data);
    let Ok(key) = PrivateKey::from_pkcs8(data) else {
        return;
    };
    let spki = key.spki().expect("spki of a loaded key");
    assert!(key.matches_spki(&spki));
    let pkcs8 = key.to_pkcs8().expect("re-encode a loaded key");
    let again = PrivateKey::from_pkcs8(&pkcs8).expect("own PKCS#8 reads back");
    assert_eq!(again.spki().expect("spki"), spki);
}

/// The PFX download: profile, password, friendly name, certificate and chain from the
/// input, the fixture P-256 key. A produced file must be one DER SEQUENCE.
pub fn pfx_build(data: &[u8]) {
    let parts = split(data, PFX_SEP);
    let [profile, password, friendly, certificate, chain @ ..] = parts.as_slice() else {
        return;
    };
    let (Ok(profile), Ok(password), Ok(friendly)) = (
        std::str::from_utf8(profile),
        std::str::from_utf8(password),
        std::str::from_utf8(friendly),
    ) else {
        return;
    };
    let Ok(profile) = wasm_keygen::Profile::parse(profile) else {
        return;
    };
    let result = wasm_keygen::build_pfx(&PfxRequest {
        pkcs8: leaf_key(),
        certificate,
        chain,
        password,
        friendly_name: friendly,
        profile,
    });
    if let Ok(pfx) = result {
        assert!(validate::pfx_password(password).is_ok(), "bad password packed");
        assert_eq!(pfx.first(), Some(&0x30));
        assert!(
            wasm_keygen::validate_password(password, Some(password)).is_ok(),
            "password accepted by build_pfx fails the form rule"
        );
    }
}

/// The application form as JSON, and every single-field rule on the raw text. Errors must
/// name fields and render in both languages.
pub fn form_validate(data: &[u8]) {
    if let Ok(form) = serde_json::from_slice::<ApplicationForm>(data)
        && let Err(errors) = validate::application(&form)
    {
        assert!(!errors.is_empty());
        for e in &errors {
            assert!(!e.field.is_empty());
            assert!(!e.message(Lang::ZhTw).is_empty());
            assert!(!e.message(Lang::En).is_empty());
        }
    }
    let text = String::from_utf8_lossy(data);
    let rules: [fn(&str) -> Result<(), validate::FieldCode>; 10] = [
        validate::tax_id,
        validate::national_id,
        validate::mobile,
        validate::phone,
        validate::email,
        validate::box_number,
        validate::staff_code,
        validate::pfx_password,
        validate::file_name,
        |s| {
            validate::pfx_password_pair(s, s)
                .map_err(|e| e.first().map_or(validate::FieldCode::Format, |e| e.code))
        },
    ];
    for rule in rules {
        if rule(&text).is_ok() {
            // Every accepted value is non-empty, printable and short.
            assert!(!text.is_empty());
            assert!(text.chars().count() <= 254);
            assert!(!text.chars().any(char::is_control), "control char accepted");
        }
    }
    let _ = wasm_keygen::validate_file_name(&text);
    if let Some((a, b)) = text.split_at_checked(text.len() / 2) {
        let _ = wasm_keygen::validate_password(a, Some(b));
    }
}

/// The bank reconciliation CSV. Line numbers are 1-based, increasing, within the file;
/// accepted amounts are whole numbers of at most 12 digits.
pub fn csv_import(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = bank_csv::parse(&text);
    let total = text.lines().count();
    let mut last = 0;
    for l in &lines {
        assert!(l.line > last && l.line <= total, "line {} of {total}", l.line);
        last = l.line;
        if let Ok((amount, _)) = l.parsed {
            assert!((0..1_000_000_000_000).contains(&amount));
            assert!(!l.bill_no.is_empty());
        }
    }
}

fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}
