//! The CA's custody rules at start (key, passphrase and PIN files private; no plaintext key
//! behind https) and the two-tier setup through `portal ca …`: an offline root signs the
//! issuing CA (an encrypted key file, or a key made in a SoftHSM2 token), the portal serves
//! the chain and issues through it, and OpenSSL verifies leaf → issuing CA → root with the
//! portal's CRL.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::{Backend, TestServer, write_private};
use proto::api::IssuedCertificate;
use server::clock::ShiftedClock;
use server::config::Config;
use testkit::{softhsm, tools};

const PASSPHRASE: &str = "issuing key passphrase 2026";
const ROOT_PASSPHRASE: &str = "offline root passphrase 2026";

fn write_public(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

/// A config with its own data directory and no background jobs.
fn config(dir: &Path) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        web_dir: dir.join("web"),
        mail_worker: false,
        expiry_interval_secs: 0,
        ..Config::default()
    }
}

async fn start_error(config: Config) -> String {
    match server::build(config, Arc::new(ShiftedClock::default())).await {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

/// A CA with its files in `dir`: `ca.pem` and `ca.key` (plain PKCS#8).
fn ca_files(dir: &Path) -> (PathBuf, PathBuf, ca::Ca) {
    let ca = ca::Ca::generate(
        &ca::CaSubject {
            common_name: "Custody Test CA".into(),
            organization: "Test".into(),
            country: "TW".into(),
        },
        time::OffsetDateTime::now_utc(),
        5,
    )
    .unwrap();
    let cert = dir.join("ca.pem");
    let key = dir.join("ca.key");
    write_public(&cert, ca.certificate_pem().as_bytes());
    write_private(&key, ca.key_pem().as_bytes());
    (cert, key, ca)
}

#[tokio::test]
async fn a_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = ca_files(dir.path());
    write_public(&key, &std::fs::read(&key).unwrap());
    let mut c = config(dir.path());
    c.ca_cert = Some(cert);
    c.ca_key = Some(key);
    let err = start_error(c).await;
    assert!(err.contains("accessible by group or others"), "{err}");
    assert!(err.contains("ca.key"), "{err}");
}

#[tokio::test]
async fn a_plaintext_key_behind_https_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = ca_files(dir.path());
    let mut c = config(dir.path());
    c.public_url = Some("https://portal.example.gov.tw".into());
    c.ca_cert = Some(cert);
    c.ca_key = Some(key);
    let err = start_error(c).await;
    assert!(err.contains("not encrypted"), "{err}");
}

#[tokio::test]
async fn an_encrypted_key_starts_behind_https_and_its_passphrase_file_must_be_private() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, ca) = ca_files(dir.path());
    let encrypted = ca.key().encrypted_pkcs8_pem(PASSPHRASE.as_bytes()).unwrap();
    std::fs::remove_file(&key).unwrap();
    write_private(&key, encrypted.as_bytes());
    let pass = dir.path().join("pass");
    write_public(&pass, PASSPHRASE.as_bytes());
    let mut c = config(dir.path());
    c.public_url = Some("https://portal.example.gov.tw".into());
    c.ca.cert = Some(cert);
    c.ca.key = Some(key.display().to_string());
    c.ca.key_passphrase_file = Some(pass.clone());
    let err = start_error(c.clone()).await;
    assert!(err.contains("accessible by group or others"), "{err}");
    assert!(err.contains("pass"), "{err}");

    write_private(&dir.path().join("wrong"), b"not the passphrase\n");
    c.ca.key_passphrase_file = Some(dir.path().join("wrong"));
    let err = start_error(c.clone()).await;
    assert!(err.contains("could not be decrypted"), "{err}");

    std::fs::remove_file(&pass).unwrap();
    write_private(&pass, format!("{PASSPHRASE}\n").as_bytes());
    c.ca.key_passphrase_file = Some(pass);
    let built = server::build(c, Arc::new(ShiftedClock::default()))
        .await
        .unwrap();
    assert_eq!(built.state.svc.ca.certificate_der(), ca.certificate_der());
}

#[tokio::test]
async fn first_start_behind_https_writes_the_key_encrypted_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.public_url = Some("https://portal.example.gov.tw".into());
    let err = start_error(c.clone()).await;
    assert!(err.contains("key_passphrase_file"), "{err}");
    assert!(!c.data_dir.join("ca.key").exists());

    let pass = dir.path().join("pass");
    write_private(&pass, PASSPHRASE.as_bytes());
    c.ca.key_passphrase_file = Some(pass);
    let built = server::build(c.clone(), Arc::new(ShiftedClock::default()))
        .await
        .unwrap();
    let key = std::fs::read_to_string(c.data_dir.join("ca.key")).unwrap();
    assert!(
        key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{key}"
    );
    let first = built.state.svc.ca.certificate_der().to_vec();
    drop(built);
    // And the next start reads it back.
    let again = server::build(c, Arc::new(ShiftedClock::default()))
        .await
        .unwrap();
    assert_eq!(again.state.svc.ca.certificate_der(), first);
}

/// Runs `portal` with `args` (and `stdin` on its standard input); returns stdout.
fn portal(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("PORTAL_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "portal {args:?}:\n{}",
        tools::output_text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    tools::run_ok("openssl", args, dir)
}

/// The whole two-tier setup through the CLI, with the issuing key where `key_toml` says,
/// then issuance and the CRL through the server, checked by OpenSSL.
async fn two_tiers(dir: &Path, key_toml: &str) {
    let s = |p: &Path| p.display().to_string();
    let root = dir.join("root");
    let data = dir.join("data");
    let conf = dir.join("portal.toml");
    std::fs::write(
        &conf,
        format!(
            "data_dir = \"{}\"\n[ca]\ncommon_name = \"Portal Issuing CA\"\n{key_toml}\n",
            s(&data)
        ),
    )
    .unwrap();
    let conf = s(&conf);

    // Offline root: passphrase on stdin.
    let out = portal(
        &[
            "ca",
            "init-root",
            "--out",
            &s(&root),
            "--key-algorithm",
            "rsa3072",
        ],
        Some(&format!("{ROOT_PASSPHRASE}\n")),
    );
    assert!(out.contains("SHA-256 fingerprint"), "{out}");
    let root_key = std::fs::read_to_string(root.join("root.key")).unwrap();
    assert!(root_key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));

    // Issuing CA key and request, on the portal's machine.
    let csr = dir.join("issuing.csr");
    let out = portal(
        &["--config", &conf, "ca", "issuing-csr", "--out", &s(&csr)],
        None,
    );
    assert!(out.contains("new key"), "{out}");

    // The root signs it (its passphrase from a file this time), the portal installs it.
    let root_pass = dir.join("root-pass");
    write_private(&root_pass, ROOT_PASSPHRASE.as_bytes());
    let ica = dir.join("issuing.pem");
    portal(
        &[
            "ca",
            "sign-issuing",
            "--root",
            &s(&root),
            "--csr",
            &s(&csr),
            "--out",
            &s(&ica),
            "--passphrase-file",
            &s(&root_pass),
        ],
        None,
    );
    portal(
        &[
            "--config",
            &conf,
            "ca",
            "install-issuing",
            "--cert",
            &s(&ica),
            "--root",
            &s(&root.join("root.pem")),
        ],
        None,
    );
    assert!(data.join("ca.pem").is_file() && data.join("ca-chain.pem").is_file());

    // The portal with that configuration.
    let config = Config::load(Some(Path::new(&conf))).unwrap();
    let srv = TestServer::start_with(Backend::Sqlite, move |c| {
        c.ca_cert = None;
        c.ca_key = None;
        c.data_dir = config.data_dir.clone();
        c.ca = config.ca.clone();
    })
    .await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let app = common::paid_application(&alice, &ops).await;
    let r = alice
        .submit_csr(&app.serial, &common::csr_pem(0, "x"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let issued: IssuedCertificate = r.json().await.unwrap();
    // The PFX gets issuing CA and root.
    let root_pem = std::fs::read_to_string(root.join("root.pem")).unwrap();
    let ica_pem = std::fs::read_to_string(&ica).unwrap();
    assert_eq!(issued.chain_pem, vec![ica_pem.clone(), root_pem.clone()]);

    let get = |path: &str| {
        let url = srv.url(path);
        async move { reqwest::get(url).await.unwrap().bytes().await.unwrap() }
    };
    let served_ca = get("/ca.cer").await;
    let served_root = get("/root.cer").await;
    let served_chain = get("/ca-chain.pem").await;
    let crl = get("/crl/ca.crl").await;
    assert_eq!(
        served_chain.as_ref(),
        format!("{ica_pem}{root_pem}").as_bytes()
    );
    let d = dir.join("check");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("ica.der"), &served_ca).unwrap();
    std::fs::write(d.join("root.der"), &served_root).unwrap();
    std::fs::write(d.join("crl.der"), &crl).unwrap();
    std::fs::write(d.join("leaf.pem"), &issued.certificate_pem).unwrap();
    openssl_ok(
        &d,
        &[
            "x509", "-inform", "DER", "-in", "ica.der", "-out", "ica.pem",
        ],
    );
    openssl_ok(
        &d,
        &[
            "x509", "-inform", "DER", "-in", "root.der", "-out", "root.pem",
        ],
    );
    openssl_ok(
        &d,
        &["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"],
    );
    let text = openssl_ok(
        &d,
        &[
            "verify",
            "-x509_strict",
            "-crl_check",
            "-CRLfile",
            "crl.pem",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "ica.pem",
            "leaf.pem",
        ],
    );
    assert!(text.starts_with("leaf.pem: OK"), "{text}");
    // OCSP: the answer is signed by the responder the issuing CA certified (its key beside
    // the issuing key: the same token, or a file encrypted with the same passphrase).
    let url = srv.url("/ocsp");
    let out = tools::openssl(
        &d,
        &[
            "ocsp",
            "-issuer",
            "ica.pem",
            "-cert",
            "leaf.pem",
            "-url",
            &url,
            "-CAfile",
            "root.pem",
            "-verify_other",
            "ica.pem",
            "-no_nonce",
            "-respout",
            "ocsp.der",
        ],
    );
    let text = tools::output_text(&out);
    assert!(
        text.contains("Response verify OK") && text.contains("leaf.pem: good"),
        "{text}"
    );
    let f = common::lint(
        "lint_ocsp_response",
        &[],
        &std::fs::read(d.join("ocsp.der")).unwrap(),
    );
    assert!(f.is_empty(), "pkilint lint_ocsp_response findings:\n{f}");
    // The leaf's AIA names the issuing CA certificate the portal serves.
    let leaf_text = openssl_ok(&d, &["x509", "-in", "leaf.pem", "-noout", "-text"]);
    assert!(
        leaf_text.contains(&format!("CA Issuers - URI:{}", srv.url("/ca.cer"))),
        "{leaf_text}"
    );
    assert_eq!(
        served_root.as_ref(),
        srv.state.svc.ca.root_der(),
        "the root is served"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_tiers_with_an_encrypted_issuing_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    write_private(&pass, PASSPHRASE.as_bytes());
    two_tiers(
        dir.path(),
        &format!("key_passphrase_file = \"{}\"", pass.display()),
    )
    .await;
    let key = std::fs::read_to_string(dir.path().join("data/ca.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let key = std::fs::read_to_string(dir.path().join("data/ocsp-responder.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
}

#[test]
fn two_tiers_with_the_issuing_key_in_a_softhsm_token() {
    softhsm::with_token("two_tiers_with_the_issuing_key_in_a_softhsm_token", || {
        let dir = tempfile::tempdir().unwrap();
        let pin = dir.path().join("pin");
        write_private(&pin, format!("{}\n", softhsm::PIN).as_bytes());
        let key_toml = format!(
            "key = \"pkcs11:token={};object=issuing-ca\"\npin_file = \"{}\"",
            softhsm::TOKEN,
            pin.display()
        );
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(two_tiers(dir.path(), &key_toml));
        // No key file: the keys (the CA's and the OCSP responder's) are in the token.
        assert!(!dir.path().join("data/ca.key").exists());
        assert!(!dir.path().join("data/ocsp-responder.key").exists());
    });
}
