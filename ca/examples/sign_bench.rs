//! Certificates signed per second by this crate and by `openssl x509 -req`, same CSRs, same
//! CA key, one run. Not part of the test suite.
//!
//! ```text
//! cargo run -p ca --release --example sign_bench -- [N=200]
//! ```
//! Needs `openssl` on PATH (or $OPENSSL_BIN).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ca::{Ca, CaSubject, IssueRequest, LeafSubject, Profile, Serial};
use wasm_keygen::{KeyAlgorithm, Subject};

/// Distinct applicant keys; CSRs beyond this reuse a key with another subject (key
/// generation is not what is measured, and each CSR is still a different signed document).
const KEYS: usize = 16;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 200,
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run with --release for numbers worth reporting");
    }
    let openssl = testkit::tools::openssl_path();
    let version = Command::new(&openssl).arg("version").output()?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();

    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let start = Instant::now();
    let ca = Ca::generate(
        &CaSubject {
            common_name: "Bench CA".into(),
            organization: "Bench".into(),
            country: "TW".into(),
        },
        now,
        10,
    )?;
    let generate_time = start.elapsed();
    let profile = Profile {
        validity_days: 730,
        crl_url: "http://127.0.0.1:8080/crl/ca.crl".into(),
        ca_issuers_url: "http://127.0.0.1:8080/ca.cer".into(),
        ocsp_url: None,
        crl_validity_hours: 24,
        allow_ec_p256: false,
    };

    eprintln!("making {n} CSRs from {} RSA-2048 keys...", KEYS.min(n));
    let keys = (0..KEYS.min(n))
        .map(|_| wasm_keygen::generate(KeyAlgorithm::Rsa { bits: 2048 }))
        .collect::<Result<Vec<_>, _>>()?;
    let mut csrs = Vec::with_capacity(n);
    for i in 0..n {
        let subject = Subject {
            cn: format!("SingleWindow-01-B{i:05}"),
            c: Some("TW".into()),
            ..Subject::default()
        };
        csrs.push(wasm_keygen::build_csr(
            &keys[i % keys.len()].pkcs8,
            &subject,
        )?);
    }
    let serials: Vec<Serial> = (0..n).map(|_| Serial::random()).collect();
    let request = |spki_der: Vec<u8>, serial: Serial, i: usize| IssueRequest {
        spki_der,
        serial,
        not_before: now,
        not_after: now + time::Duration::days(730),
        subject: LeafSubject {
            cert_name: format!("SingleWindow-01-B{i:05}"),
            organization: "台灣報關股份有限公司".into(),
            tax_id: "12345675".into(),
            organizational_unit: None,
        },
    };

    // This crate, full path: CSR checks (signature, weak-key tests) then signing.
    let start = Instant::now();
    let mut ours = Vec::with_capacity(n);
    for (i, csr) in csrs.iter().enumerate() {
        let checked = ca.check_csr(&profile, &csr.der)?;
        ours.push(ca.issue(&profile, &request(checked.spki_der, serials[i], i))?);
    }
    let full = start.elapsed();

    // This crate, signing only.
    let spkis: Vec<Vec<u8>> = keys.iter().map(|k| k.spki.clone()).collect();
    let start = Instant::now();
    for i in 0..n {
        ca.issue(
            &profile,
            &request(spkis[i % spkis.len()].clone(), serials[i], i),
        )?;
    }
    let issue_only = start.elapsed();

    // OpenSSL: one `openssl x509 -req` process per CSR, as a shell-script CA would run it.
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    std::fs::write(d.join("ca.pem"), ca.certificate_pem())?;
    std::fs::write(d.join("ca.key"), ca.key_pem().as_bytes())?;
    std::fs::write(d.join("ext.cnf"), EXTENSIONS)?;
    for (i, csr) in csrs.iter().enumerate() {
        std::fs::write(d.join(format!("{i}.csr")), &csr.pem)?;
    }
    let start = Instant::now();
    for (i, serial) in serials.iter().enumerate() {
        openssl_sign(&openssl, d, i, serial)?;
    }
    let openssl_time = start.elapsed();

    // Both outputs verify against the CA, so the comparison is like for like.
    std::fs::write(d.join("ours.pem"), ca::cert_der_to_pem(&ours[0]))?;
    for leaf in ["ours.pem", "0.pem"] {
        let out = Command::new(&openssl)
            .args(["verify", "-CAfile", "ca.pem", leaf])
            .current_dir(d)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "{leaf} does not verify: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
    }

    println!(
        "sign_bench: {n} CSRs (RSA-2048 applicant keys), CA key RSA-3072, sha256WithRSAEncryption"
    );
    println!(
        "{version}; {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:<48} {:>6} {:>9} {:>9}",
        "method", "certs", "seconds", "certs/s"
    );
    row("ca: check_csr + issue (in process)", n, full);
    row("ca: issue only (in process)", n, issue_only);
    row("openssl x509 -req (one process per CSR)", n, openssl_time);
    println!(
        "(Ca::generate with a new RSA-3072 key took {:.3} s)",
        generate_time.as_secs_f64()
    );
    match openssl_raw_signs(&openssl) {
        Some(rate) => println!(
            "{:<48} {:>6} {:>9} {rate:>9.1}",
            "reference: openssl speed rsa3072 (bare signs/s)", "-", "-"
        ),
        None => println!("reference: openssl speed rsa3072 gave no machine-readable result"),
    }
    Ok(())
}

/// Bare RSA-3072 signatures per second from `openssl speed -mr` (`+F2:k:bits:sign/s:verify/s`).
fn openssl_raw_signs(openssl: &Path) -> Option<f64> {
    let out = Command::new(openssl)
        .args(["speed", "-seconds", "1", "-mr", "rsa3072"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("+F2:"))
        .and_then(|rest| rest.split(':').nth(2)?.parse().ok())
}

fn row(name: &str, n: usize, t: Duration) {
    let secs = t.as_secs_f64();
    println!("{name:<48} {n:>6} {secs:>9.3} {:>9.1}", n as f64 / secs);
}

fn openssl_sign(openssl: &Path, dir: &Path, i: usize, serial: &Serial) -> Result<(), Error> {
    let out = Command::new(openssl)
        .args([
            "x509",
            "-req",
            "-in",
            &format!("{i}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
        ])
        .args([
            "-set_serial",
            &format!("0x{}", serial.to_hex()),
            "-days",
            "730",
            "-sha256",
        ])
        .args(["-extfile", "ext.cnf", "-out", &format!("{i}.pem")])
        .current_dir(dir)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "openssl x509 -req: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// The same extensions `ca::Ca::issue` writes.
const EXTENSIONS: &str = "\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:8080/crl/ca.crl
authorityInfoAccess = caIssuers;URI:http://127.0.0.1:8080/ca.cer
";
