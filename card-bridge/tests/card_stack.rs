//! Not a test on its own: the hardware-free card stack for the app's end-to-end IC-card
//! login test (`app/tests/browser/tests/card-login.test.js`). That test builds this target
//! (`cargo test -p card-bridge --test card_stack --no-run`) after `cargo xtask web`, runs it
//! with `--ignored --exact card_stack_for_the_app_browser_test --nocapture` and
//! `CARD_STACK=1`, and drives it by lines on stdin/stdout. It reuses the harness of the
//! other PC/SC tests (tests/common): a private pcscd + vsmartcard vpcd, the PIV emulator
//! holding a card-auth test-PKI business certificate, and the real `card-bridge` binary.
//!
//! Protocol (stack lines start with `CARD-STACK `, anything else on stdout is libtest's):
//!
//! | who | line | meaning |
//! |---|---|---|
//! | stack | `PKI {"root":…,"intermediate":…,"tax_id":…,"pin":…}` | trusted root and intermediate PEM files for `auth.card_roots` |
//! | test | `ORIGIN http://127.0.0.1:<port>` | the portal's origin, for `--allow-origin` |
//! | stack | `READY <bridge url>` | bridge running, the trusted card inserted and visible |
//! | test | `INSERT good\|untrusted\|expired\|revoked\|unknown` → stack `INSERTED <which> <bridge url>` | swap the card (new pcscd and bridge) |
//! | test | `STOP-BRIDGE` → stack `STOPPED` | the bridge is no longer running |
//! | test | `QUIT` or end of stdin | stop everything |
//!
//! `untrusted`: same tax ID, issued by a second test PKI whose CA names equal the trusted
//! one's but whose keys differ (so only the signature check can tell). `expired`: from the
//! trusted PKI, valid until yesterday. `revoked`: from the trusted PKI, listed on its CRL.
//! `unknown`: from the trusted PKI, but its CRL distribution point answers HTTP 503.
//!
//! The cards' CRL distribution point is a test HTTP server of this process (127.0.0.1,
//! port 0) publishing the trusted issuing CA's current CRL, so the portal can run with its
//! default `auth.card_revocation = "require"`.

// Test harness: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use card_auth::testing::{CardSpec, CrlRoute, CrlServer, RevocationReason, TestFiles, TestPki};
use common::{Bridge, Emulator, PIN, Pcscd, TAX_ID};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "CARD-STACK {line}").unwrap();
    out.flush().unwrap();
}

#[test]
#[ignore = "helper for app/tests/browser/tests/card-login.test.js, driven over stdin"]
fn card_stack_for_the_app_browser_test() {
    if std::env::var_os("CARD_STACK").is_none() {
        eprintln!("card_stack: set CARD_STACK=1 and drive it over stdin (see the file's doc)");
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let label = "Portal E2E";
    let crls = CrlServer::start().unwrap();
    let crl_url = crls.url("portal-e2e-issuing.crl");
    let pki = TestPki::new_with_crl(label, now, &crl_url).unwrap();
    let rogue = TestPki::new_with_crl(label, now, &crl_url).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let write = |pki: &TestPki, spec: &CardSpec, name: &str| {
        let card = pki.issue_card(spec).unwrap();
        let files = pki.write_files(&card, &tmp.path().join(name)).unwrap();
        (card, files)
    };
    let good_spec = CardSpec::new(TAX_ID, now);
    let (_, good) = write(&pki, &good_spec, "good");
    let (_, untrusted) = write(&rogue, &CardSpec::new(TAX_ID, now), "untrusted");
    let mut expired_spec = CardSpec::new(TAX_ID, now);
    expired_spec.not_before = now - time::Duration::days(400);
    expired_spec.not_after = now - time::Duration::days(1);
    let (_, expired) = write(&pki, &expired_spec, "expired");
    let (revoked_card, revoked) = write(&pki, &CardSpec::new(TAX_ID, now), "revoked");
    let mut unknown_spec = CardSpec::new(TAX_ID, now);
    unknown_spec.crl_urls = Some(vec![crls.url("down.crl")]);
    let (_, unknown) = write(&pki, &unknown_spec, "unknown");
    crls.set("down.crl", CrlRoute::Status(503));
    crls.publish(
        "portal-e2e-issuing.crl",
        pki.current_crl(&[(&revoked_card, RevocationReason::KeyCompromise)], now)
            .unwrap(),
    );
    let path = |p: &PathBuf| p.display().to_string();
    say(&format!(
        "PKI {}",
        serde_json::json!({
            "root": path(&good.root),
            "intermediate": path(&good.intermediate),
            "tax_id": TAX_ID,
            "company": good_spec.company,
            "pin": PIN,
        })
    ));

    let mut pcscd = Pcscd::start();
    let mut origin: Option<String> = None;
    let mut emulator = Some(Emulator::insert(&pcscd, &good.card_cert, &good.card_key));
    let mut bridge: Option<Bridge> = None;

    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let (cmd, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        match cmd {
            "ORIGIN" => {
                origin = Some(arg.to_owned());
                let b = Bridge::start(&pcscd, &[arg]);
                b.wait_for_card();
                say(&format!("READY {}", b.url));
                bridge = Some(b);
            }
            "INSERT" => {
                let files: &TestFiles = match arg {
                    "good" => &good,
                    "untrusted" => &untrusted,
                    "expired" => &expired,
                    "revoked" => &revoked,
                    "unknown" => &unknown,
                    other => panic!("unknown card {other:?}"),
                };
                // A fresh pcscd + bridge per card: swapping the emulator under one running
                // pcscd is sometimes not noticed within 30 s on a loaded machine (measured
                // here), while a first insertion always is. The bridge gets a new port.
                let origin = origin.clone().expect("ORIGIN first");
                drop(bridge.take());
                drop(emulator.take());
                pcscd = Pcscd::start();
                emulator = Some(Emulator::insert(&pcscd, &files.card_cert, &files.card_key));
                let b = Bridge::start(&pcscd, &[&origin]);
                b.wait_for_card();
                say(&format!("INSERTED {arg} {}", b.url));
                bridge = Some(b);
            }
            "STOP-BRIDGE" => {
                if let Some(b) = bridge.take() {
                    let log = b.log();
                    // The PIN reached the card, never the bridge's log.
                    assert!(!log.contains(PIN), "{log}");
                    drop(b);
                }
                say("STOPPED");
            }
            "QUIT" => break,
            other => panic!("unknown command {other:?}"),
        }
    }
    drop(bridge);
    drop(emulator);
    drop(pcscd);
    drop(crls);
}
