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
pub use rcgen::RevocationReason;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CrlIssuingDistributionPoint, CrlScope, CustomExtension, DistinguishedName, DnType, DnValue,
    IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, PublicKeyData, RevokedCertParams, SerialNumber,
    SignatureAlgorithm, SigningKey,
};
use rsa::Pkcs1v15Sign;
use rsa::PrivateKey as RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::EncodePrivateKey;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use time::{Duration, OffsetDateTime};

use crate::trust::TrustStore;

mod crl_server;
pub use crl_server::{CrlRoute, CrlServer, unreachable_url};

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
    /// CRL distribution point written into the cards the intermediate issues (see
    /// [`TestPki::new_with_crl`]); cards from [`TestPki::new`] carry none.
    pub crl_url: Option<String>,
}

impl TestPki {
    /// `label` goes into the CA names ("`label` Root CA", "`label` Issuing CA"): two PKIs
    /// with the same label have identical names but different keys.
    pub fn new(label: &str, now: OffsetDateTime) -> Result<Self, TestPkiError> {
        Self::build(label, now, true)
    }

    /// Like [`TestPki::new`], and the cards carry a cRLDistributionPoints extension with
    /// `crl_url` (e.g. [`CrlServer::url`]); publish [`TestPki::crl`] there.
    pub fn new_with_crl(
        label: &str,
        now: OffsetDateTime,
        crl_url: &str,
    ) -> Result<Self, TestPkiError> {
        let mut pki = Self::build(label, now, true)?;
        pki.crl_url = Some(crl_url.to_owned());
        Ok(pki)
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
        Ok(Self {
            root,
            intermediate,
            crl_url: None,
        })
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
        let serial = random_serial()?;
        params.serial_number = Some(serial.clone());
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
        params.is_ca = if spec.is_ca {
            IsCa::Ca(BasicConstraints::Unconstrained)
        } else {
            IsCa::ExplicitNoCa
        };
        params.key_usages = match (spec.key_usage_extension, spec.digital_signature) {
            (false, _) => Vec::new(),
            (true, true) => vec![KeyUsagePurpose::DigitalSignature],
            (true, false) => vec![KeyUsagePurpose::KeyEncipherment],
        };
        params.use_authority_key_identifier_extension = true;
        let crl_urls = spec
            .crl_urls
            .clone()
            .unwrap_or_else(|| self.crl_url.iter().cloned().collect());
        if !crl_urls.is_empty() {
            params.crl_distribution_points = vec![CrlDistributionPoint { uris: crl_urls }];
        }
        if spec.tax_id_in_directory {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &[2, 5, 29, 9],
                    subject_directory_attributes(&spec.tax_id)?,
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
            serial: serial.to_bytes(),
        })
    }

    /// A CRL of the intermediate (the cards' issuer) listing `revoked`, valid from
    /// `this_update` to `next_update` (a `next_update` in the past makes a stale one).
    pub fn crl(
        &self,
        revoked: &[(&TestCard, RevocationReason)],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, TestPkiError> {
        self.crl_from(&self.intermediate, revoked, this_update, next_update, None)
    }

    /// A CRL of the intermediate, current at `now` (this update an hour ago, next in a day).
    pub fn current_crl(
        &self,
        revoked: &[(&TestCard, RevocationReason)],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, TestPkiError> {
        self.crl(revoked, now - Duration::hours(1), now + Duration::days(1))
    }

    /// A CRL signed by `ca` (e.g. the root, to test a CRL from the wrong issuer), with an
    /// issuingDistributionPoint naming `scope_urls` if given.
    pub fn crl_from(
        &self,
        ca: &TestCa,
        revoked: &[(&TestCard, RevocationReason)],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        scope_urls: Option<&[String]>,
    ) -> Result<Vec<u8>, TestPkiError> {
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: random_serial()?,
            issuing_distribution_point: scope_urls.map(|uris| CrlIssuingDistributionPoint {
                distribution_point: CrlDistributionPoint {
                    uris: uris.to_vec(),
                },
                scope: Some(CrlScope::UserCertsOnly),
            }),
            revoked_certs: revoked
                .iter()
                .map(|(card, reason)| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&card.serial),
                    revocation_time: this_update,
                    reason_code: Some(*reason),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::PreSpecified(key_id(&ca.signer.pkcs1_public)),
        };
        Ok(params.signed_by(&ca.issuer()).map_err(err)?.der().to_vec())
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
    /// Whether the keyUsage extension is there at all.
    pub key_usage_extension: bool,
    /// basicConstraints cA=TRUE (a CA certificate used as a card: must be refused).
    pub is_ca: bool,
    /// cRLDistributionPoints URIs; `None` takes the PKI's [`TestPki::crl_url`], an empty
    /// list leaves the extension out.
    pub crl_urls: Option<Vec<String>>,
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
            key_usage_extension: true,
            is_ca: false,
            crl_urls: None,
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
    /// The certificate's serial, big-endian as encoded.
    pub serial: Vec<u8>,
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
fn subject_directory_attributes(tax_id: &str) -> Result<Vec<u8>, TestPkiError> {
    use der::Encode;
    use der::asn1::{Any, ObjectIdentifier, PrintableString, SetOfVec};
    use x509_cert::attr::Attribute;
    use x509_cert::ext::pkix::SubjectDirectoryAttributes;
    const UNIFORM_ORGANIZATION_ID: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.886.1.100.2.101");
    let value = Any::encode_from(&PrintableString::new(tax_id).map_err(err)?).map_err(err)?;
    let attribute = Attribute {
        oid: UNIFORM_ORGANIZATION_ID,
        values: SetOfVec::try_from(vec![value]).map_err(err)?,
    };
    SubjectDirectoryAttributes(vec![attribute])
        .to_der()
        .map_err(err)
}

fn pem(label: &str, der: &[u8]) -> String {
    // Only a length overflow could fail, impossible for certificates and keys.
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    /// The bytes the hand-written TLV encoder this module had produced for this tax ID.
    #[test]
    fn subject_directory_attributes_bytes_are_unchanged() {
        let expected = [
            0x30, 0x17, 0x30, 0x15, 0x06, 0x07, 0x60, 0x86, 0x76, 0x01, 0x64, 0x02, 0x65, 0x31,
            0x0A, 0x13, 0x08, b'0', b'4', b'5', b'9', b'5', b'2', b'5', b'7',
        ];
        assert_eq!(
            super::subject_directory_attributes("04595257").unwrap(),
            expected
        );
    }

    #[test]
    fn pem_is_64_column_lf() {
        let pem = super::pem("CERTIFICATE", &[0u8; 96]);
        assert_eq!(
            pem,
            "-----BEGIN CERTIFICATE-----\n\
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\
             -----END CERTIFICATE-----\n"
        );
    }
}
