//! Interoperability with the tools applicants and operators really use: our CSRs verify with
//! OpenSSL, and our PFX files (both profiles, RSA and P-256) open in OpenSSL 3 (without
//! `-legacy`), Java `keytool`, python `cryptography` and NSS `pk12util`, with the key
//! matching the certificate, the certificate name as friendlyName and the chain present.
//!
//! The test CA (root + issuing CA) is made with the openssl CLI. Every tool is required: a
//! missing one fails the test and says what to install.

// Test helpers outside #[test] functions: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wasm_keygen::{
    KeyAlgorithm, PfxRequest, Profile, Subject, build_csr, build_pfx, certificate_to_der, generate,
};

const PASSWORD: &str = "Pfx2026pass";
const CERT_NAME: &str = "SingleWindow-01-B00051";

fn install_hint(program: &str) -> &'static str {
    match program {
        "openssl" => "apt-get install openssl",
        "keytool" => "apt-get install openjdk-17-jre-headless",
        "pk12util" | "certutil" => "apt-get install libnss3-tools",
        "python3" => "install python3 and `pip install cryptography`",
        _ => "install it",
    }
}

/// Runs a program; a missing program is a test failure with an install hint.
fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}); this test needs it: {}",
                install_hint(program)
            )
        })
}

/// Runs a program that must succeed; returns stdout + stderr.
fn ok(program: &str, args: &[&str], dir: &Path) -> String {
    let out = run(program, args, dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

struct Ca {
    dir: tempfile::TempDir,
}

impl Ca {
    /// A root CA and an issuing CA below it, both P-256 (fast), as the project's CA would be.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "[ca]\nbasicConstraints=critical,CA:TRUE,pathlen:0\n\
             keyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n\
             [leaf]\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=clientAuth\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        ok(
            "openssl",
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "root.key",
                    "-out",
                    "root.pem",
                    "-days",
                    "30",
                    "-sha256",
                    "-subj",
                    "/C=TW/O=Test Root/CN=Test Root CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            ]
            .concat(),
            d,
        );
        ok(
            "openssl",
            &[
                &["req", "-new"][..],
                &ec,
                &[
                    "-keyout",
                    "ica.key",
                    "-out",
                    "ica.csr",
                    "-subj",
                    "/C=TW/O=Test/CN=Test Issuing CA",
                ],
            ]
            .concat(),
            d,
        );
        ok(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                "ica.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-set_serial",
                "2",
                "-days",
                "30",
                "-sha256",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "ca",
                "-out",
                "ica.pem",
            ],
            d,
        );
        Ca { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// Issues a certificate for the CSR, like the portal's CA: subject and extensions
    /// from the request, signed by the issuing CA.
    fn issue(&self, csr_pem: &str, name: &str) -> Vec<u8> {
        let csr = format!("{name}.csr");
        let pem = format!("{name}.pem");
        std::fs::write(self.path(&csr), csr_pem).unwrap();
        ok(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ica.pem",
                "-CAkey",
                "ica.key",
                "-set_serial",
                "0x5a17c0ffee",
                "-days",
                "30",
                "-sha256",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "leaf",
                "-out",
                &pem,
            ],
            self.dir.path(),
        );
        self.read(&pem)
    }
}

fn subject() -> Subject {
    Subject {
        cn: CERT_NAME.into(),
        o: Some("台灣報關股份有限公司".into()),
        ou: Some("B00051".into()),
        c: Some("TW".into()),
        serial_number: Some("12345675".into()),
    }
}

#[test]
fn csrs_verify_with_openssl_and_keep_the_subject_order() {
    let ca = Ca::new();
    for (alg, file) in [
        (KeyAlgorithm::Rsa { bits: 2048 }, "rsa.csr"),
        (KeyAlgorithm::EcP256, "ec.csr"),
    ] {
        let key = generate(alg).unwrap();
        let csr = build_csr(&key.pkcs8, &subject()).unwrap();
        std::fs::write(ca.path(file), &csr.pem).unwrap();
        let out = ok(
            "openssl",
            &["req", "-in", file, "-verify", "-noout"],
            ca.dir.path(),
        );
        assert!(out.contains("verify OK"), "{out}");

        let out = ok(
            "openssl",
            &[
                "req",
                "-in",
                file,
                "-noout",
                "-subject",
                "-nameopt",
                "RFC2253,-esc_msb",
            ],
            ca.dir.path(),
        );
        assert_eq!(
            out.trim(),
            "subject=CN=SingleWindow-01-B00051,serialNumber=12345675,OU=B00051,\
             O=台灣報關股份有限公司,C=TW"
        );

        // C and serialNumber are PrintableString, the others UTF8String, C first.
        let dump = ok("openssl", &["asn1parse", "-in", file], ca.dir.path());
        let strings: Vec<&str> = dump
            .lines()
            .filter(|l| l.contains("STRING") && !l.contains("BIT STRING"))
            .map(|l| {
                l.split("prim: ")
                    .nth(1)
                    .unwrap_or("")
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(
            strings,
            [
                "PRINTABLESTRING",
                "UTF8STRING",
                "UTF8STRING",
                "PRINTABLESTRING",
                "UTF8STRING"
            ],
            "{dump}"
        );
        let sig = if file == "rsa.csr" {
            "sha256WithRSAEncryption"
        } else {
            "ecdsa-with-SHA256"
        };
        assert!(dump.contains(sig), "{dump}");

        // The CA's certificate carries the same public key as the request.
        let cert = ca.issue(&csr.pem, file.trim_end_matches(".csr"));
        let der = certificate_to_der(&cert).unwrap();
        let parsed = wasm_keygen::Certificate::from_der(der).unwrap();
        assert_eq!(parsed.spki(), key.spki.as_slice());
    }
}

/// One PFX, issued by the test CA, written to disk.
struct Pfx {
    ca: Ca,
    file: String,
}

fn make_pfx(alg: KeyAlgorithm, profile: Profile) -> Pfx {
    let ca = Ca::new();
    let key = generate(alg).unwrap();
    let csr = build_csr(&key.pkcs8, &subject()).unwrap();
    let leaf = ca.issue(&csr.pem, "leaf");
    let (ica, root) = (ca.read("ica.pem"), ca.read("root.pem"));
    let chain: [&[u8]; 2] = [&ica, &root];
    let pfx = build_pfx(&PfxRequest {
        pkcs8: &key.pkcs8,
        certificate: &leaf,
        chain: &chain,
        password: PASSWORD,
        friendly_name: CERT_NAME,
        profile,
    })
    .unwrap();
    let file = format!("{CERT_NAME}.pfx");
    std::fs::write(ca.path(&file), pfx).unwrap();
    Pfx { ca, file }
}

fn check_openssl(p: &Pfx, profile: Profile) {
    let d = p.ca.dir.path();
    let pass = format!("pass:{PASSWORD}");
    let info = ok(
        "openssl",
        &[
            "pkcs12", "-in", &p.file, "-passin", &pass, "-info", "-nodes", "-out", "all.pem",
        ],
        d,
    );
    let expected: &[&str] = match profile {
        Profile::Compatible => &[
            "MAC: sha1, Iteration 2048",
            "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
            "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
        ],
        Profile::Modern => &[
            "MAC: sha256, Iteration 10000",
            "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256",
            "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256",
        ],
    };
    for line in expected {
        assert!(info.contains(line), "missing {line:?} in:\n{info}");
    }
    assert!(!info.to_lowercase().contains("rc2"), "{info}");

    let all = String::from_utf8(p.ca.read("all.pem")).unwrap();
    assert_eq!(
        all.matches("-----BEGIN CERTIFICATE-----").count(),
        3,
        "{all}"
    );
    assert_eq!(
        all.matches("-----BEGIN PRIVATE KEY-----").count(),
        1,
        "{all}"
    );
    assert_eq!(
        all.matches(&format!("friendlyName: {CERT_NAME}")).count(),
        2,
        "{all}"
    );
    assert_eq!(all.matches("localKeyID:").count(), 2, "{all}");
    assert!(
        all.contains("subject=C = TW, O = Test, CN = Test Issuing CA"),
        "{all}"
    );
    assert!(
        all.contains("subject=C = TW, O = Test Root, CN = Test Root CA"),
        "{all}"
    );

    // The key inside is the certificate's key.
    ok(
        "openssl",
        &[
            "pkcs12", "-in", &p.file, "-passin", &pass, "-nocerts", "-nodes", "-out", "key.pem",
        ],
        d,
    );
    let from_key = ok("openssl", &["pkey", "-in", "key.pem", "-pubout"], d);
    let from_cert = ok(
        "openssl",
        &["x509", "-in", "leaf.pem", "-pubkey", "-noout"],
        d,
    );
    assert_eq!(from_key, from_cert);

    let wrong = run(
        "openssl",
        &["pkcs12", "-in", &p.file, "-passin", "pass:wrong1", "-noout"],
        d,
    );
    assert!(!wrong.status.success(), "a wrong password must fail");
}

fn check_keytool(p: &Pfx) {
    let out = ok(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            &p.file,
            "-storepass",
            PASSWORD,
        ],
        p.ca.dir.path(),
    );
    let lower = out.to_lowercase();
    assert!(
        lower.contains(&format!("alias name: {}", CERT_NAME.to_lowercase())),
        "{out}"
    );
    assert!(out.contains("Entry type: PrivateKeyEntry"), "{out}");
    assert!(out.contains("Certificate chain length: 3"), "{out}");
    assert!(out.contains("Your keystore contains 1 entry"), "{out}");
}

const PYCA_SCRIPT: &str = r#"
import sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12, Encoding, PublicFormat
data = open(sys.argv[1], "rb").read()
pw = sys.argv[2].encode()
key, cert, extra = pkcs12.load_key_and_certificates(data, pw)
spki = lambda k: k.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
assert spki(key.public_key()) == spki(cert.public_key()), "key does not match certificate"
leaf = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
assert cert == leaf, "wrong leaf certificate"
p = pkcs12.load_pkcs12(data, pw)
print("friendlyName=" + p.cert.friendly_name.decode())
print("chain=" + ",".join(c.certificate.subject.rfc4514_string() for c in p.additional_certs))
try:
    pkcs12.load_key_and_certificates(data, b"wrong1")
    print("wrong password accepted")
except ValueError:
    print("wrong password refused")
"#;

fn check_pyca(p: &Pfx) {
    let d = p.ca.dir.path();
    std::fs::write(d.join("check.py"), PYCA_SCRIPT).unwrap();
    let out = ok("python3", &["check.py", &p.file, PASSWORD, "leaf.pem"], d);
    assert!(
        out.contains(&format!("friendlyName={CERT_NAME}\n")),
        "{out}"
    );
    assert!(
        out.contains("chain=CN=Test Issuing CA,O=Test,C=TW,CN=Test Root CA,O=Test Root,C=TW"),
        "{out}"
    );
    assert!(out.contains("wrong password refused"), "{out}");
}

fn check_nss(p: &Pfx) {
    let d = p.ca.dir.path();
    std::fs::create_dir(d.join("nssdb")).unwrap();
    ok(
        "certutil",
        &["-N", "-d", "sql:nssdb", "--empty-password"],
        d,
    );
    let out = ok(
        "pk12util",
        &["-i", &p.file, "-d", "sql:nssdb", "-W", PASSWORD],
        d,
    );
    assert!(out.contains("PKCS12 IMPORT SUCCESSFUL"), "{out}");
    let certs = ok("certutil", &["-L", "-d", "sql:nssdb"], d);
    assert!(certs.contains(CERT_NAME), "{certs}");
    assert!(certs.contains("u,u,u"), "leaf has its key: {certs}");
    assert!(certs.contains("Test Issuing CA"), "{certs}");
    assert!(certs.contains("Test Root CA"), "{certs}");
    let keys = ok("certutil", &["-K", "-d", "sql:nssdb"], d);
    assert!(
        keys.contains(CERT_NAME),
        "key is linked to the certificate: {keys}"
    );
    let wrong = run(
        "pk12util",
        &["-i", &p.file, "-d", "sql:nssdb", "-W", "wrong1"],
        d,
    );
    assert!(!wrong.status.success(), "a wrong password must fail");
}

fn check_all(alg: KeyAlgorithm, profile: Profile) {
    let p = make_pfx(alg, profile);
    check_openssl(&p, profile);
    check_keytool(&p);
    check_pyca(&p);
    check_nss(&p);
}

#[test]
fn rsa_compatible_pfx_opens_everywhere() {
    check_all(KeyAlgorithm::Rsa { bits: 2048 }, Profile::Compatible);
}

#[test]
fn rsa_modern_pfx_opens_everywhere() {
    check_all(KeyAlgorithm::Rsa { bits: 2048 }, Profile::Modern);
}

#[test]
fn p256_compatible_pfx_opens_everywhere() {
    check_all(KeyAlgorithm::EcP256, Profile::Compatible);
}

#[test]
fn p256_modern_pfx_opens_everywhere() {
    check_all(KeyAlgorithm::EcP256, Profile::Modern);
}

#[test]
fn certificate_of_another_key_is_refused() {
    let ca = Ca::new();
    let key = generate(KeyAlgorithm::EcP256).unwrap();
    let other = generate(KeyAlgorithm::EcP256).unwrap();
    let csr = build_csr(&other.pkcs8, &subject()).unwrap();
    let leaf = ca.issue(&csr.pem, "other");
    let err = build_pfx(&PfxRequest {
        pkcs8: &key.pkcs8,
        certificate: &leaf,
        chain: &[],
        password: PASSWORD,
        friendly_name: CERT_NAME,
        profile: Profile::Compatible,
    })
    .unwrap_err();
    assert_eq!(err.code(), "key_mismatch");
}
