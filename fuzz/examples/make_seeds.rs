//! Regenerates the binary fixtures and seed corpora (test CA, keys, CSRs, certificates).
//! The text seeds (CSV, forms) are written by hand and not touched here.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds` (needs `openssl` on PATH
//! for the seeds made by another implementation; set OPENSSL to override).
//!
//! Regenerating replaces the test CA, so every certificate seed is rewritten with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use ca::{Ca, CaSubject, LeafSubject, Serial, cert_der_to_pem};
use time::macros::datetime;
use wasm_keygen::{KeyAlgorithm, Subject};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("fixtures");
    let corpus = root.join("corpus");

    let now = datetime!(2026-01-01 00:00 UTC);
    let ca = Ca::generate(
        &CaSubject {
            common_name: "Portal Fuzz Test CA (not trusted anywhere)".into(),
            organization: "關港貿單一窗口 Fuzz".into(),
            country: "TW".into(),
        },
        now,
        30,
    )?;
    write(&fixtures.join("ca.crt.pem"), ca.certificate_pem().as_bytes())?;
    write(&fixtures.join("ca.key.pem"), ca.key_pem().as_bytes())?;
    let profile = testkit::certs::profile();

    let subject = Subject {
        ou: Some("K1234".into()),
        ..testkit::keys::subject("SingleWindow-01-B00051", testkit::forms::TAX_ID)
    };
    let mut chain_pem = String::new();
    for (name, alg) in [
        ("rsa2048", KeyAlgorithm::Rsa { bits: 2048 }),
        ("p256", KeyAlgorithm::EcP256),
    ] {
        let key = wasm_keygen::generate(alg)?;
        let csr = wasm_keygen::build_csr(&key.pkcs8, &subject)?;
        write(&corpus.join(format!("csr_check/keygen-{name}.der")), &csr.der)?;
        write(
            &corpus.join(format!("csr_pem/keygen-{name}.pem")),
            csr.pem.as_bytes(),
        )?;
        write(&corpus.join(format!("keygen_key/keygen-{name}.pk8")), &key.pkcs8)?;
        write(&corpus.join(format!("keygen_key/keygen-{name}.spki")), &key.spki)?;

        let checked = ca.check_csr(&profile, &csr.der)?;
        let cert = ca.issue(
            &profile,
            &testkit::certs::request(
                checked.spki_der,
                Serial::try_random()?,
                now,
                LeafSubject {
                    organizational_unit: Some("K1234".into()),
                    ..testkit::certs::leaf_subject(testkit::forms::COMPANY)
                },
            ),
        )?;
        let pem = cert_der_to_pem(&cert);
        write(&corpus.join(format!("cert_inspect/leaf-{name}.der")), &cert)?;
        write(&corpus.join(format!("keygen_cert/leaf-{name}.der")), &cert)?;
        write(
            &corpus.join(format!("keygen_cert/leaf-{name}.pem")),
            pem.as_bytes(),
        )?;
        chain_pem.push_str(&pem);
        if name == "p256" {
            // The PFX target packs this key: P-256 keeps each run cheap.
            write(&fixtures.join("leaf-p256.pk8"), &key.pkcs8)?;
            write(&fixtures.join("leaf-p256.crt.pem"), pem.as_bytes())?;
            for (seed, profile, password, friendly, chain) in [
                ("compatible", "compatible", "abcd1234", "SingleWindow-01-B00051", true),
                ("modern", "modern", "Passw0rd", "SingleWindow-01-B00051", false),
                ("default-no-chain", "", "abcd", "名稱", false),
            ] {
                let mut input = format!("{profile}{SEP}{password}{SEP}{friendly}{SEP}{pem}");
                if chain {
                    input.push_str(SEP);
                    input.push_str(&ca.certificate_pem());
                }
                write(&corpus.join(format!("pfx_build/{seed}.txt")), input.as_bytes())?;
            }
        }
    }
    write(&corpus.join("cert_inspect/ca.der"), ca.certificate_der())?;
    chain_pem.push_str(&ca.certificate_pem());
    write(
        &corpus.join("keygen_cert/chain.pem"),
        format!("Bag Attributes\n    friendlyName: x\n{chain_pem}").as_bytes(),
    )?;

    openssl_seeds(&corpus)
}

/// Separator between the parts of a `pfx_build` input (see `portal_fuzz::pfx_build`).
const SEP: &str = "\n=====\n";

/// CSRs and keys written by OpenSSL: other encodings and the refusal paths (SHA-1, RSA-1024,
/// Ed25519, requested extensions).
fn openssl_seeds(corpus: &Path) -> Res<()> {
    let openssl = std::env::var("OPENSSL").unwrap_or_else(|_| "openssl".into());
    let tmp = std::env::temp_dir().join(format!("portal-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let run = |args: &[&str]| -> Res<()> {
        let status = Command::new(&openssl).args(args).current_dir(&tmp).status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{openssl} {args:?} failed").into())
        }
    };
    let subj = "/C=TW/O=Fuzz/serialNumber=12345675/CN=SingleWindow-01-B00051";
    let csrs: [(&str, &[&str], &str); 6] = [
        ("rsa3072-sha384", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"], "-sha384"),
        ("p256-sha256", &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "-sha256"),
        ("rsa2048-sha1", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], "-sha1"),
        ("rsa1024", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], "-sha256"),
        ("p384", &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], "-sha384"),
        ("ed25519", &["-algorithm", "ED25519"], ""),
    ];
    for (name, keyopts, digest) in csrs {
        let key = format!("{name}.key");
        let mut genpkey = vec!["genpkey", "-out", &key];
        genpkey.extend_from_slice(keyopts);
        run(&genpkey)?;
        let pem = format!("{name}.csr.pem");
        let mut req = vec!["req", "-new", "-key", &key, "-subj", subj, "-out", &pem];
        if !digest.is_empty() {
            req.push(digest);
        }
        if name == "rsa3072-sha384" {
            // Requested extensions the CA must ignore.
            req.extend_from_slice(&[
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "subjectAltName=DNS:evil.example",
            ]);
        }
        run(&req)?;
        let der = format!("{name}.csr.der");
        run(&["req", "-in", &pem, "-outform", "DER", "-out", &der])?;
        copy(&tmp.join(&der), &corpus.join(format!("csr_check/openssl-{name}.der")))?;
        copy(&tmp.join(&pem), &corpus.join(format!("csr_pem/openssl-{name}.pem")))?;
        let pk8 = format!("{name}.pk8");
        run(&["pkcs8", "-topk8", "-nocrypt", "-in", &key, "-outform", "DER", "-out", &pk8])?;
        copy(&tmp.join(&pk8), &corpus.join(format!("keygen_key/openssl-{name}.pk8")))?;
    }
    std::fs::remove_dir_all(&tmp)?;
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Res<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)?;
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Res<()> {
    write(to, &std::fs::read(from)?)
}
