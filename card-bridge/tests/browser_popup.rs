//! The `/popupForm` flow in real headless Chromium (Debian `chromium` + npm
//! `playwright-core`), end to end through PC/SC: a test portal on an allowed 127.0.0.1
//! origin gets a signature, a page on another origin gets nothing. The browser part is
//! `tests/browser/popup.test.js`; this test starts what it needs and checks the result
//! with card-auth.
//!
//! Needs, besides the PC/SC tools (see tests/common/mod.rs): node ≥ 18, /usr/bin/chromium
//! (or CHROMIUM_PATH), and `npm ci --prefix card-bridge/tests/browser` once.

mod common;

use std::path::Path;
use std::process::Command;

use card_auth::testing::{CardSpec, TestPki};
use common::{Bridge, Emulator, PIN, Pcscd, TAX_ID, free_port};

const TBS: &str = "portal-login:b7d04e.1732500000";

#[test]
fn popup_form_in_chromium_signs_for_the_allowed_origin_only() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci --prefix card-bridge/tests/browser` first"
    );
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is required at {chromium} (apt-get install chromium, or set CHROMIUM_PATH)"
    );

    let now = time::OffsetDateTime::now_utc();
    let pki = TestPki::new("Browser", now).unwrap();
    let card = pki.issue_card(&CardSpec::new(TAX_ID, now)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let files = pki.write_files(&card, tmp.path()).unwrap();

    let portal_port = free_port();
    let evil_port = free_port();
    let portal = format!("http://127.0.0.1:{portal_port}");

    let pcscd = Pcscd::start();
    let _emulator = Emulator::insert(&pcscd, &files.card_cert, &files.card_key);
    let bridge = Bridge::start(&pcscd, &[&portal]);
    bridge.wait_for_card();

    let result_file = tmp.path().join("answer.json");
    let out = Command::new("node")
        .args(["--test", "--test-concurrency=1", "popup.test.js"])
        .current_dir(&dir)
        .env("BRIDGE_URL", &bridge.url)
        .env("PORTAL_PORT", portal_port.to_string())
        .env("EVIL_PORT", evil_port.to_string())
        .env("TBS", TBS)
        .env("PIN", PIN)
        .env("CARD_CERT_B64", card.cert_b64())
        .env("RESULT_FILE", &result_file)
        .env("CHROMIUM_PATH", &chromium)
        .output()
        .expect("node is required (apt-get install nodejs)");
    let report = format!(
        "{}{}\nbridge log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        bridge.log()
    );
    assert!(out.status.success(), "browser tests failed:\n{report}");
    eprintln!("{report}");
    assert!(
        report.contains("# pass 5"),
        "all five browser tests ran:\n{report}"
    );

    // The signature the allowed portal received passes the server's verifier.
    let answer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&result_file).unwrap()).unwrap();
    let identity = common::verify_login(
        &pki,
        TBS,
        answer["signature"].as_str().unwrap(),
        answer["certb64"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(identity.tax_id, TAX_ID);

    // Only the allowed portal's two requests (good PIN, wrong PIN) reached the card.
    let log = bridge.log();
    assert_eq!(log.matches("MakeSignature").count(), 2, "{log}");
    let evil = evil_port.to_string();
    assert!(
        !log.lines()
            .any(|l| l.contains("MakeSignature") && l.contains(&evil)),
        "{log}"
    );
    assert!(!log.contains(PIN), "{log}");
}
