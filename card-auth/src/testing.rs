//! A throwaway PKI for tests (feature `test-pki`): a root, an intermediate, and "business
//! certificates" shaped like MOEACA's (tax ID in subjectDirectoryAttributes
//! 2.16.886.1.100.2.101 and in the subject serialNumber), plus the card's signature over a
//! challenge and PEM/PKCS#8 files for `piv_vicc.py`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use card_auth::testing::{CardSpec, TestPki};
//! let now = time::OffsetDateTime::now_utc();
//! let pki = TestPki::new("Test", now)?;
//! let card = pki.issue_card(&CardSpec::new("04595257", now))?;
//! let signature_b64 = card.sign_b64(b"challenge", card_auth::testing::TestHash::Sha256)?;
//! # Ok(()) }
//! ```
//!
//! Keys come from the OS RNG; nothing here is fit for production use.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa,
    Issuer, KeyIdMethod, KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm,
    SigningKey,
};
use rsa::Pkcs1v15Sign;
use rsa::PrivateKey as RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::EncodePrivateKey;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use time::{Duration, OffsetDateTime};

use crate::trust::TrustStore;

/// Anything that went wrong building the test PKI.
#[derive(Debug, thiserror::Error)]
#[error("test PKI: {0}")]
pub struct TestPkiError(String);

fn err(e: impl std::fmt::Display) -> TestPkiError {
    TestPkiError(e.to_string())
}

/// Hash for a test signature; SHA-1 exists so tests can prove it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// Key type of a test card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKeyKind {
    Rsa2048,
    P256,
}

/// An RSA key that rcgen can sign with (rcgen's own crypto backends are not compiled in).
struct RsaSigner {
    key: RsaPrivateKey,
    pkcs1_public: Vec<u8>,
}

impl RsaSigner {
    fn generate() -> Result<Self, TestPkiError> {
        let key = RsaPrivateKey::new(&mut getrandom::SysRng, 2048).map_err(err)?;
        let pkcs1_public = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(err)?
            .as_bytes()
            .to_vec();
        Ok(Self { key, pkcs1_public })
    }
}

impl PublicKeyData for RsaSigner {
    fn der_bytes(&self) -> &[u8] {
        &self.pkcs1_public
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl SigningKey for RsaSigner {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg))
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// The public half of a P-256 card key, for rcgen to embed.
struct P256Public(Vec<u8>);

impl PublicKeyData for P256Public {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// A test CA: its certificate and what it needs to issue.
pub struct TestCa {
    pub der: Vec<u8>,
    params: CertificateParams,
    signer: RsaSigner,
}

impl TestCa {
    pub fn pem(&self) -> String {
        pem("CERTIFICATE", &self.der)
    }

    fn issuer(&self) -> Issuer<'_, &RsaSigner> {
        Issuer::from_params(&self.params, &self.signer)
    }
}

/// Root and intermediate, both RSA-2048, valid from `now - 1 day` for 20 years.
pub struct TestPki {
    pub root: TestCa,
    pub intermediate: TestCa,
}

impl TestPki {
    /// `label` goes into the CA names ("`label` Root CA", "`label` Issuing CA"): two PKIs
    /// with the same label have identical names but different keys.
    pub fn new(label: &str, now: OffsetDateTime) -> Result<Self, TestPkiError> {
        Self::build(label, now, true)
    }

    /// Like [`TestPki::new`], but the intermediate lacks basicConstraints cA (a broken
    /// chain that verifiers must refuse).
    pub fn new_with_non_ca_intermediate(
        label: &str,
        now: OffsetDateTime,
    ) -> Result<Self, TestPkiError> {
        Self::build(label, now, false)
    }

    fn build(
        label: &str,
        now: OffsetDateTime,
        intermediate_is_ca: bool,
    ) -> Result<Self, TestPkiError> {
        let not_before = now - Duration::days(1);
        let not_after = now + Duration::days(365 * 20);
        let root_signer = RsaSigner::generate()?;
        let root_params = ca_params(
            &format!("{label} Root CA"),
            not_before,
            not_after,
            &root_signer,
        )?;
        let root_der = root_params
            .self_signed(&root_signer)
            .map_err(err)?
            .der()
            .to_vec();
        let root = TestCa {
            der: root_der,
            params: root_params,
            signer: root_signer,
        };

        let int_signer = RsaSigner::generate()?;
        let mut int_params = ca_params(
            &format!("{label} Issuing CA"),
            not_before,
            not_after,
            &int_signer,
        )?;
        int_params.is_ca = if intermediate_is_ca {
            IsCa::Ca(BasicConstraints::Constrained(0))
        } else {
            IsCa::ExplicitNoCa
        };
        int_params.use_authority_key_identifier_extension = true;
        let int_der = int_params
            .signed_by(&int_signer, &root.issuer())
            .map_err(err)?
            .der()
            .to_vec();
        let intermediate = TestCa {
            der: int_der,
            params: int_params,
            signer: int_signer,
        };
        Ok(Self { root, intermediate })
    }

    /// Trusts the root only (the intermediate must come with the login).
    pub fn trust_store(&self) -> TrustStore {
        let mut store = TrustStore::new();
        // The DER was produced just above; parsing it cannot fail.
        let _ = store.add_roots(&self.root.der);
        store
    }

    /// Trusts the root and knows the intermediate (like a server configured with GRCA and
    /// the MOEACA issuing CA).
    pub fn trust_store_with_intermediate(&self) -> TrustStore {
        let mut store = self.trust_store();
        let _ = store.add_intermediates(&self.intermediate.der);
        store
    }

    /// Issues a card certificate from the intermediate.
    pub fn issue_card(&self, spec: &CardSpec) -> Result<TestCard, TestPkiError> {
        self.issue_card_from(&self.intermediate, spec)
    }

    /// Issues a card certificate directly from `ca` (e.g. the root, for a one-level chain).
    pub fn issue_card_from(&self, ca: &TestCa, spec: &CardSpec) -> Result<TestCard, TestPkiError> {
        let mut params = CertificateParams::default();
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.serial_number = Some(random_serial()?);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("TW")?);
        dn.push(
            DnType::OrganizationName,
            DnValue::Utf8String(spec.company.clone()),
        );
        if let Some(cn) = &spec.common_name {
            dn.push(DnType::CommonName, DnValue::Utf8String(cn.clone()));
        }
        if spec.tax_id_in_subject {
            dn.push(
                DnType::CustomDnType(vec![2, 5, 4, 5]),
                printable(
                    &spec
                        .subject_serial_number
                        .clone()
                        .unwrap_or_else(|| spec.tax_id.clone()),
                )?,
            );
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        if spec.digital_signature {
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        } else {
            params.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        }
        params.use_authority_key_identifier_extension = true;
        if spec.tax_id_in_directory {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &[2, 5, 29, 9],
                    subject_directory_attributes(&spec.tax_id),
                ));
        }
        let (key, der) = match spec.key {
            TestKeyKind::Rsa2048 => {
                let signer = RsaSigner::generate()?;
                params.key_identifier_method =
                    KeyIdMethod::PreSpecified(key_id(&signer.pkcs1_public));
                let der = params
                    .signed_by(&signer, &ca.issuer())
                    .map_err(err)?
                    .der()
                    .to_vec();
                (CardKey::Rsa(Box::new(signer.key)), der)
            }
            TestKeyKind::P256 => {
                let signing = random_p256()?;
                let point = signing.verifying_key().to_sec1_bytes().to_vec();
                params.key_identifier_method = KeyIdMethod::PreSpecified(key_id(&point));
                let der = params
                    .signed_by(&P256Public(point), &ca.issuer())
                    .map_err(err)?
                    .der()
                    .to_vec();
                (CardKey::P256(Box::new(signing)), der)
            }
        };
        Ok(TestCard {
            cert_der: der,
            key,
            tax_id: spec.tax_id.clone(),
        })
    }

    /// Writes `root.pem`, `intermediate.pem`, `card-cert.pem`, `card-key.pem` (PKCS#8,
    /// RSA cards only) into `dir`.
    pub fn write_files(&self, card: &TestCard, dir: &Path) -> Result<TestFiles, TestPkiError> {
        std::fs::create_dir_all(dir).map_err(err)?;
        let files = TestFiles {
            root: dir.join("root.pem"),
            intermediate: dir.join("intermediate.pem"),
            card_cert: dir.join("card-cert.pem"),
            card_key: dir.join("card-key.pem"),
        };
        std::fs::write(&files.root, self.root.pem()).map_err(err)?;
        std::fs::write(&files.intermediate, self.intermediate.pem()).map_err(err)?;
        std::fs::write(&files.card_cert, card.cert_pem()).map_err(err)?;
        std::fs::write(&files.card_key, card.key_pkcs8_pem()?).map_err(err)?;
        Ok(files)
    }
}

/// Paths written by [`TestPki::write_files`].
#[derive(Debug, Clone)]
pub struct TestFiles {
    pub root: PathBuf,
    pub intermediate: PathBuf,
    pub card_cert: PathBuf,
    pub card_key: PathBuf,
}

/// What to put in a card certificate. [`CardSpec::new`] gives a good MOEACA-like one;
/// change fields to make bad ones.
#[derive(Debug, Clone)]
pub struct CardSpec {
    pub tax_id: String,
    pub company: String,
    pub common_name: Option<String>,
    /// Put the tax ID in subjectDirectoryAttributes (2.16.886.1.100.2.101).
    pub tax_id_in_directory: bool,
    /// Put the tax ID (or `subject_serial_number`) in the subject serialNumber.
    pub tax_id_in_subject: bool,
    /// Overrides the subject serialNumber value (to test a disagreement).
    pub subject_serial_number: Option<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// keyUsage digitalSignature (else keyEncipherment only).
    pub digital_signature: bool,
    pub key: TestKeyKind,
}

impl CardSpec {
    /// Valid from `now - 1 day` for a year, tax ID in both places, RSA-2048.
    pub fn new(tax_id: &str, now: OffsetDateTime) -> Self {
        Self {
            tax_id: tax_id.to_owned(),
            company: "測試股份有限公司".to_owned(),
            common_name: Some("測試股份有限公司".to_owned()),
            tax_id_in_directory: true,
            tax_id_in_subject: true,
            subject_serial_number: None,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
            digital_signature: true,
            key: TestKeyKind::Rsa2048,
        }
    }
}

enum CardKey {
    Rsa(Box<RsaPrivateKey>),
    P256(Box<p256::ecdsa::SigningKey>),
}

/// A card: its certificate and private key.
pub struct TestCard {
    pub cert_der: Vec<u8>,
    pub tax_id: String,
    key: CardKey,
}

impl TestCard {
    pub fn cert_pem(&self) -> String {
        pem("CERTIFICATE", &self.cert_der)
    }

    pub fn cert_b64(&self) -> String {
        STANDARD.encode(&self.cert_der)
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), RSA only.
    pub fn key_pkcs8_pem(&self) -> Result<String, TestPkiError> {
        match &self.key {
            CardKey::Rsa(key) => {
                let doc = key.to_pkcs8_der().map_err(err)?;
                Ok(pem("PRIVATE KEY", doc.as_bytes()))
            }
            CardKey::P256(_) => Err(TestPkiError("PKCS#8 export is for RSA cards".into())),
        }
    }

    /// What the card would return for `tbs`: RSA PKCS#1 v1.5 with `hash`, or for a P-256
    /// card a DER ECDSA signature over SHA-256 (`hash` ignored), base64.
    pub fn sign_b64(&self, tbs: &[u8], hash: TestHash) -> Result<String, TestPkiError> {
        let raw = match &self.key {
            CardKey::Rsa(key) => {
                let (scheme, digest) = match hash {
                    TestHash::Sha1 => (Pkcs1v15Sign::new::<Sha1>(), Sha1::digest(tbs).to_vec()),
                    TestHash::Sha256 => {
                        (Pkcs1v15Sign::new::<Sha256>(), Sha256::digest(tbs).to_vec())
                    }
                    TestHash::Sha384 => {
                        (Pkcs1v15Sign::new::<Sha384>(), Sha384::digest(tbs).to_vec())
                    }
                    TestHash::Sha512 => {
                        (Pkcs1v15Sign::new::<Sha512>(), Sha512::digest(tbs).to_vec())
                    }
                };
                key.sign(scheme, &digest).map_err(err)?
            }
            CardKey::P256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(tbs);
                sig.to_der().as_bytes().to_vec()
            }
        };
        Ok(STANDARD.encode(raw))
    }
}

fn ca_params(
    cn: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    signer: &RsaSigner,
) -> Result<CertificateParams, TestPkiError> {
    let mut params = CertificateParams::default();
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial()?);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, printable("TW")?);
    dn.push(
        DnType::OrganizationName,
        DnValue::Utf8String("Test Government".into()),
    );
    dn.push(DnType::CommonName, DnValue::Utf8String(cn.into()));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.key_identifier_method = KeyIdMethod::PreSpecified(key_id(&signer.pkcs1_public));
    Ok(params)
}

fn printable(s: &str) -> Result<DnValue, TestPkiError> {
    Ok(DnValue::PrintableString(s.try_into().map_err(err)?))
}

/// RFC 5280 method 1: SHA-1 of the subjectPublicKey bits.
fn key_id(public_key_bits: &[u8]) -> Vec<u8> {
    Sha1::digest(public_key_bits).to_vec()
}

/// 128-bit positive serial.
fn random_serial() -> Result<SerialNumber, TestPkiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(err)?;
    bytes[0] = (bytes[0] & 0x7F) | 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

fn random_p256() -> Result<p256::ecdsa::SigningKey, TestPkiError> {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(err)?;
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&bytes) {
            return Ok(key);
        }
    }
}

/// `SEQUENCE { SEQUENCE { OID 2.16.886.1.100.2.101, SET { PrintableString tax_id } } }`.
fn subject_directory_attributes(tax_id: &str) -> Vec<u8> {
    const OID_UNIFORM_ORGANIZATION_ID: [u8; 7] = [0x60, 0x86, 0x76, 0x01, 0x64, 0x02, 0x65];
    let value = tlv(0x13, tax_id.as_bytes());
    let attribute = [tlv(0x06, &OID_UNIFORM_ORGANIZATION_ID), tlv(0x31, &value)].concat();
    tlv(0x30, &tlv(0x30, &attribute))
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
    out
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
