//! card-bridge against real PC/SC, no hardware: pcscd + vsmartcard vpcd + the PIV
//! emulator holding a business certificate from card-auth's test PKI.
//!
//! Needs (CI installs them): pcscd, vsmartcard-vpcd, util-linux `unshare`, python3 with
//! `cryptography`, openssl; root or passwordless sudo. See tests/common/mod.rs.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use card_auth::testing::{CardSpec, TestPki};
use common::{Bridge, Emulator, PIN, Pcscd, TAX_ID};
use serde_json::json;

const PORTAL: &str = "https://portal.example";
const TBS: &str = "portal-login:7c1e5a9f.1732500000";

fn package(pin: &str, signature_type: &str) -> serde_json::Value {
    json!({
        "func": "MakeSignature", "tbs": TBS, "tbsEncoding": "NONE", "hashAlgorithm": "SHA256",
        "pin": pin, "nonce": "", "withCardSN": "true", "signatureType": signature_type,
    })
}

#[test]
fn real_pcsc_list_sign_wrong_pin_removal_and_reinsertion() {
    let now = time::OffsetDateTime::now_utc();
    let pki = TestPki::new("PCSC", now).unwrap();
    let card = pki.issue_card(&CardSpec::new(TAX_ID, now)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = pki.write_files(&card, dir.path()).unwrap();

    let pcscd = Pcscd::start();
    let emulator = Emulator::insert(&pcscd, &files.card_cert, &files.card_key);
    let mut bridge = Bridge::start(&pcscd, &[PORTAL]);
    bridge.wait_for_card();

    // `card-bridge list`: the reader and the certificate's subject and tax ID.
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_card-bridge"))
        .arg("list")
        .env("PCSCLITE_CSOCK_NAME", pcscd.socket())
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.status.success(),
        "{listing}\n{}",
        String::from_utf8_lossy(&list.stderr)
    );
    assert!(listing.contains("reader: Virtual PCD"), "{listing}");
    assert!(
        listing.contains("C=TW,O=測試股份有限公司,CN=測試股份有限公司,serialNumber=04595257"),
        "{listing}"
    );
    assert!(listing.contains("tax ID (統一編號): 04595257"), "{listing}");

    // /pkcs11info: the certificate read from the card through GET DATA + GET RESPONSE.
    let info = bridge.get("/pkcs11info?withcert=true", Some(PORTAL));
    assert_eq!(info.status, 200);
    assert_eq!(info.header("access-control-allow-origin"), Some(PORTAL));
    let info = info.json();
    assert_eq!(info["ret_code"], 0);
    let slot = info["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["token"].is_object())
        .unwrap_or_else(|| panic!("no card in {info}"));
    let serial = slot["token"]["serialNumber"].as_str().unwrap();
    assert_eq!(serial.len(), 32, "CHUID GUID in hex: {serial}");
    let cert = &slot["token"]["certs"][0];
    assert_eq!(
        STANDARD.decode(cert["certb64"].as_str().unwrap()).unwrap(),
        card.cert_der
    );
    assert_eq!(cert["subjectID"], TAX_ID);

    // Wrong PIN: HiPKI login failure with the tries left, no signature.
    let wrong = bridge.sign(&package("654321", "PKCS1"));
    assert_eq!(wrong["ret_code"], 0x76100006, "{wrong}");
    assert_eq!(wrong["last_error"], -2147483646, "{wrong}");
    assert_eq!(wrong["tries_left"], 2, "{wrong}");
    assert!(wrong.get("signature").is_none());

    // Right PIN: a PKCS#1 signature the server's verifier accepts.
    let good = bridge.sign(&package(PIN, "PKCS1"));
    assert_eq!(good["ret_code"], 0, "{good}");
    assert_eq!(good["cardSN"], serial);
    let identity = common::verify_login(
        &pki,
        TBS,
        good["signature"].as_str().unwrap(),
        good["certb64"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(identity.tax_id, TAX_ID);

    // PKCS#7 from the same card verifies with openssl and carries the challenge.
    let p7 = bridge.sign(&package(PIN, "PKCS7"));
    assert_eq!(p7["ret_code"], 0, "{p7}");
    let der = STANDARD.decode(p7["signature"].as_str().unwrap()).unwrap();
    assert_eq!(
        common::openssl_cms_verify(&der, &files.root, &files.intermediate),
        TBS.as_bytes()
    );

    // Card removed: a clear "no card" answer, and the bridge keeps running.
    emulator.remove();
    bridge.wait_for_no_card();
    let gone = bridge.sign(&package(PIN, "PKCS1"));
    assert_eq!(gone["ret_code"], 0x76000006, "{gone}");
    assert!(bridge.is_running(), "card-bridge died:\n{}", bridge.log());
    assert_eq!(bridge.get("/popupForm", None).status, 200);

    // Card back in: signing works again without restarting anything. The bridge may report
    // "no card" (its read failed) before pcscd's vpcd driver has noticed the old emulator's
    // socket closing; an emulator connecting inside that window is never seen, as a real
    // card put back within a fraction of a second may not be either. Give vpcd its poll time.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let _emulator = Emulator::insert(&pcscd, &files.card_cert, &files.card_key);
    bridge.wait_for_card();
    let again = bridge.sign(&package(PIN, "PKCS1"));
    assert_eq!(again["ret_code"], 0, "{again}");

    // The PIN never reaches the log.
    let log = bridge.log();
    assert!(!log.contains(PIN) && !log.contains("654321"), "{log}");
}

#[test]
fn no_card_then_no_pcsc_service() {
    // A pcscd whose only reader is vpcd but with no card: "no card"; then pcscd gone:
    // "PC/SC service not running". Neither crashes the bridge.
    let pcscd = Pcscd::start();
    let mut bridge = Bridge::start(&pcscd, &[PORTAL]);
    let no_card = bridge.sign(&package(PIN, "PKCS1"));
    assert_eq!(no_card["ret_code"], 0x76000006, "{no_card}");
    drop(pcscd);
    let no_service = bridge.sign(&package(PIN, "PKCS1"));
    assert_eq!(no_service["ret_code"], 0x76100001, "{no_service}");
    let info = bridge.get("/pkcs11info", None).json();
    assert_eq!(info["ret_code"], 0x76100001, "{info}");
    assert!(bridge.is_running());
}
