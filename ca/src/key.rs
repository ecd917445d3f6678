//! The CA's signing key: a file key (RSA through ring, P-256 through the `p256` crate) or a
//! key that stays inside a PKCS#11 token. One type for both, so certificates, CRLs, the
//! issuing CA's CSR and (later) OCSP responses are all signed through the same adapter, which
//! is also rcgen's [`rcgen::SigningKey`].
//!
//! RSA keys are generated with the pure-Rust `rsa` crate (ring cannot generate RSA keys and
//! aws-lc-rs needs cmake and a C toolchain) and then used through ring: PKCS#1 v1.5 is
//! deterministic, and ring's assembly is several times faster than `rsa` at signing.
//! P-256 file keys sign with RFC 6979 nonces, so their signatures are deterministic too.
//! File keys are read from PKCS#8 (plain or PBES2-encrypted), PKCS#1 or SEC1 PEM.
//! Key bytes never reach a log: there is no Debug impl that shows them.

use std::fmt;

use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use pkcs8::der::pem::LineEnding;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rsa::pkcs1::DecodeRsaPrivateKey;
use zeroize::Zeroizing;

use crate::spki::PublicKey;
use crate::token::{TokenKey, TokenSpec};
use crate::{CaError, oid, pem};

/// Which key to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA with this modulus size (2048, 3072 or 4096), signing with SHA-256 PKCS#1 v1.5.
    Rsa(u32),
    /// ECDSA P-256 with SHA-256.
    EcP256,
}

impl KeyAlgorithm {
    pub(crate) fn check(self) -> Result<Self, CaError> {
        match self {
            KeyAlgorithm::Rsa(2048 | 3072 | 4096) | KeyAlgorithm::EcP256 => Ok(self),
            KeyAlgorithm::Rsa(bits) => Err(CaError::Build(format!(
                "RSA-{bits} CA keys are not supported (2048, 3072 or 4096)"
            ))),
        }
    }
}

/// How this key signs; the AlgorithmIdentifier of its certificates, CRLs and responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// sha256WithRSAEncryption (PKCS#1 v1.5), parameters NULL.
    RsaPkcs1Sha256,
    /// ecdsa-with-SHA256, parameters absent.
    EcdsaP256Sha256,
}

impl SignatureAlgorithm {
    pub fn oid(self) -> const_oid::ObjectIdentifier {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => oid::SHA256_WITH_RSA,
            SignatureAlgorithm::EcdsaP256Sha256 => oid::ECDSA_WITH_SHA256,
        }
    }

    /// The DER `AlgorithmIdentifier`, as written in what this key signs.
    pub fn algorithm_identifier_der(self) -> Vec<u8> {
        use der::Encode as _;
        let parameters = match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => Some(der::asn1::AnyRef::NULL),
            SignatureAlgorithm::EcdsaP256Sha256 => None,
        };
        spki::AlgorithmIdentifierRef {
            oid: self.oid(),
            parameters,
        }
        .to_der()
        // Encoding a fixed OID and NULL cannot fail; an empty result would fail verification.
        .unwrap_or_default()
    }

    fn rcgen(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => &rcgen::PKCS_RSA_SHA256,
            SignatureAlgorithm::EcdsaP256Sha256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

/// A CA signing key, in memory or in a token.
pub struct CaKey {
    signer: Signer,
    public: PublicKey,
}

enum Signer {
    Rsa {
        pair: RsaKeyPair,
        /// PKCS#8 `PrivateKeyInfo`, to write the key file.
        pkcs8: Zeroizing<Vec<u8>>,
    },
    P256 {
        key: p256::ecdsa::SigningKey,
        pkcs8: Zeroizing<Vec<u8>>,
    },
    Token(TokenKey),
}

impl fmt::Debug for CaKey {
    /// Never shows key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.signer {
            Signer::Rsa { .. } => "RSA file key",
            Signer::P256 { .. } => "P-256 file key",
            Signer::Token(_) => "PKCS#11 token key",
        };
        f.debug_struct("CaKey")
            .field("kind", &kind)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl CaKey {
    /// A new key in memory (to be written to a file, encrypted or with mode 0600).
    pub fn generate(algorithm: KeyAlgorithm) -> Result<CaKey, CaError> {
        match algorithm.check()? {
            KeyAlgorithm::Rsa(bits) => {
                let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits as usize)
                    .map_err(|e| CaError::Build(format!("RSA key generation failed: {e}")))?;
                let pkcs8 = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&key)
                    .map_err(|e| CaError::Build(format!("RSA key encoding failed: {e}")))?;
                Self::rsa_from_pkcs8(Zeroizing::new(pkcs8.as_bytes().to_vec()))
                    .map_err(|e| CaError::Build(format!("generated RSA key refused: {e}")))
            }
            KeyAlgorithm::EcP256 => {
                let mut bytes = Zeroizing::new([0u8; 32]);
                loop {
                    getrandom::fill(bytes.as_mut())
                        .map_err(|e| CaError::Build(format!("OS random generator failed: {e}")))?;
                    // Out of range (zero or >= n) happens with probability ~2^-32: draw again.
                    if let Ok(key) = p256::SecretKey::from_slice(bytes.as_ref()) {
                        return Self::p256(key);
                    }
                }
            }
        }
    }

    /// PKCS#8 (RSA or P-256, plain or `ENCRYPTED PRIVATE KEY`), PKCS#1 `RSA PRIVATE KEY` or
    /// SEC1 `EC PRIVATE KEY` PEM. An encrypted key needs `passphrase`.
    pub fn from_pem(text: &str, passphrase: Option<&[u8]>) -> Result<CaKey, CaError> {
        const LABELS: [&str; 4] = [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ];
        let (label, der) = pem::decode_first(text, &LABELS).map_err(CaError::Load)?;
        match label.as_str() {
            "RSA PRIVATE KEY" => {
                let key = rsa::PrivateKey::from_pkcs1_der(&der)
                    .map_err(|e| CaError::Load(format!("RSA PRIVATE KEY: {e}")))?;
                let pkcs8 = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&key)
                    .map_err(|e| CaError::Load(format!("RSA PRIVATE KEY: {e}")))?;
                Self::rsa_from_pkcs8(Zeroizing::new(pkcs8.as_bytes().to_vec()))
            }
            "EC PRIVATE KEY" => {
                let key = p256::SecretKey::from_sec1_der(&der)
                    .map_err(|_| CaError::Load("EC PRIVATE KEY is not a P-256 key".into()))?;
                Self::p256(key)
            }
            "ENCRYPTED PRIVATE KEY" => {
                let Some(passphrase) = passphrase else {
                    return Err(CaError::Load(
                        "the CA key is encrypted; configure ca.key_passphrase_file".into(),
                    ));
                };
                let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
                    .map_err(|e| CaError::Load(format!("ENCRYPTED PRIVATE KEY: {e}")))?;
                let plain = info.decrypt(passphrase).map_err(|_| {
                    CaError::Load(
                        "the CA key could not be decrypted (wrong passphrase, or an \
                         encryption scheme other than PBES2)"
                            .into(),
                    )
                })?;
                Self::from_pkcs8(Zeroizing::new(plain.as_bytes().to_vec()))
            }
            _ => Self::from_pkcs8(der),
        }
    }

    /// The key named by a `pkcs11:` URI, which stays in the token.
    pub fn from_token(spec: &TokenSpec) -> Result<CaKey, CaError> {
        let token = TokenKey::open(spec)?;
        let public = token.public_key().clone();
        Ok(CaKey {
            signer: Signer::Token(token),
            public,
        })
    }

    /// Makes a new key pair inside the token (not extractable, sensitive), under the URI's
    /// `object` label; refuses when a key with that label or id already exists there.
    pub fn create_in_token(spec: &TokenSpec, algorithm: KeyAlgorithm) -> Result<CaKey, CaError> {
        let token = TokenKey::create(spec, algorithm.check()?)?;
        let public = token.public_key().clone();
        Ok(CaKey {
            signer: Signer::Token(token),
            public,
        })
    }

    /// The token key the URI names, made there first (as [`CaKey::create_in_token`]) when
    /// the token does not have it yet; and whether it was made now.
    pub fn open_or_create_in_token(
        spec: &TokenSpec,
        algorithm: KeyAlgorithm,
    ) -> Result<(CaKey, bool), CaError> {
        let (token, created) = TokenKey::open_or_create(spec, algorithm.check()?)?;
        let public = token.public_key().clone();
        Ok((
            CaKey {
                signer: Signer::Token(token),
                public,
            },
            created,
        ))
    }

    fn from_pkcs8(der: Zeroizing<Vec<u8>>) -> Result<CaKey, CaError> {
        match RsaKeyPair::from_pkcs8(&der) {
            Ok(_) => Self::rsa_from_pkcs8(der),
            Err(rsa_err) => match p256::SecretKey::from_pkcs8_der(&der) {
                Ok(key) => Self::p256(key),
                Err(_) => Err(CaError::Load(format!(
                    "PRIVATE KEY is neither an RSA 2048-4096 key nor a P-256 key ({rsa_err})"
                ))),
            },
        }
    }

    fn rsa_from_pkcs8(pkcs8: Zeroizing<Vec<u8>>) -> Result<CaKey, CaError> {
        let pair = RsaKeyPair::from_pkcs8(&pkcs8)
            .map_err(|e| CaError::Load(format!("RSA key refused: {e}")))?;
        let public = PublicKey::from_rsa_public_key_der(pair.public().as_ref())
            .map_err(|e| CaError::Load(format!("RSA public key: {e}")))?;
        Ok(CaKey {
            signer: Signer::Rsa { pair, pkcs8 },
            public,
        })
    }

    fn p256(key: p256::SecretKey) -> Result<CaKey, CaError> {
        // Re-encoded once here so that writing the key file cannot fail later.
        let doc = key
            .to_pkcs8_der()
            .map_err(|e| CaError::Load(format!("P-256 key encoding failed: {e}")))?;
        let signing: p256::ecdsa::SigningKey = key.into();
        let point = signing.verifying_key().to_sec1_point(false);
        let public = PublicKey::ec_p256(point.as_bytes().to_vec());
        Ok(CaKey {
            signer: Signer::P256 {
                key: signing,
                pkcs8: Zeroizing::new(doc.as_bytes().to_vec()),
            },
            public,
        })
    }

    /// Whether the key lives in a PKCS#11 token (and cannot be exported).
    pub fn is_token(&self) -> bool {
        matches!(self.signer, Signer::Token(_))
    }

    pub(crate) fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The key's `SubjectPublicKeyInfo`, DER.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.public.to_spki_der()
    }

    /// RFC 5280 4.2.1.2 method 1 (SHA-1 of the public key bits), as OpenSSL computes it.
    pub fn key_id(&self) -> Vec<u8> {
        self.public.key_id()
    }

    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        if self.public.is_rsa() {
            SignatureAlgorithm::RsaPkcs1Sha256
        } else {
            SignatureAlgorithm::EcdsaP256Sha256
        }
    }

    /// Signs `message` with [`CaKey::signature_algorithm`]: the PKCS#1 v1.5 signature, or
    /// the DER `ECDSA-Sig-Value`. File keys give the same signature for the same message.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CaError> {
        match &self.signer {
            Signer::Rsa { pair, .. } => {
                let mut sig = vec![0u8; pair.public().modulus_len()];
                // The generator only randomises ring's blinding; PKCS#1 v1.5 output is fixed.
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &ring::rand::SystemRandom::new(),
                    message,
                    &mut sig,
                )
                .map_err(|_| CaError::Build("RSA signing failed".into()))?;
                Ok(sig)
            }
            Signer::P256 { key, .. } => {
                let sig: p256::ecdsa::Signature = key
                    .try_sign(message)
                    .map_err(|_| CaError::Build("ECDSA signing failed".into()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Signer::Token(token) => token.sign(message),
        }
    }

    fn pkcs8(&self) -> Result<&[u8], CaError> {
        match &self.signer {
            Signer::Rsa { pkcs8, .. } | Signer::P256 { pkcs8, .. } => Ok(pkcs8),
            Signer::Token(_) => Err(CaError::Load(
                "the CA key is held in a PKCS#11 token and cannot be exported".into(),
            )),
        }
    }

    /// Plain PKCS#8 PEM of a file key. Never log it.
    pub fn pkcs8_pem(&self) -> Result<Zeroizing<String>, CaError> {
        Ok(pem::encode_secret("PRIVATE KEY", self.pkcs8()?))
    }

    /// `ENCRYPTED PRIVATE KEY` PEM: PBES2 with scrypt (log2 N = 15, r = 8, p = 1) and
    /// AES-256-CBC, a fresh salt and IV each time. OpenSSL 3 reads it (`openssl pkey`).
    pub fn encrypted_pkcs8_pem(&self, passphrase: &[u8]) -> Result<String, CaError> {
        if passphrase.is_empty() {
            return Err(CaError::Build("the key passphrase is empty".into()));
        }
        let info = pkcs8::PrivateKeyInfoRef::try_from(self.pkcs8()?)
            .map_err(|e| CaError::Build(format!("PKCS#8: {e}")))?;
        let encrypted = info
            .encrypt(passphrase)
            .map_err(|e| CaError::Build(format!("key encryption failed: {e}")))?;
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| CaError::Build(format!("PEM: {e}")))
    }
}

/// rcgen's view of a [`CaKey`]: the adapter every certificate, CRL and CSR of this crate is
/// signed through. A failed signature (a token error) is kept, because rcgen's
/// `RemoteKeyError` carries no text, and handed back by [`RcgenSigner::error`].
pub(crate) struct RcgenSigner<'a> {
    key: &'a CaKey,
    error: std::cell::RefCell<Option<CaError>>,
}

impl<'a> RcgenSigner<'a> {
    pub(crate) fn new(key: &'a CaKey) -> Self {
        RcgenSigner {
            key,
            error: std::cell::RefCell::new(None),
        }
    }

    /// The error of a failed rcgen call, with the signing failure's own text when that was
    /// the cause.
    pub(crate) fn error(&self, e: rcgen::Error) -> CaError {
        match self.error.borrow_mut().take() {
            Some(signing) => signing,
            None => CaError::Build(e.to_string()),
        }
    }
}

impl rcgen::PublicKeyData for RcgenSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.key.public.key_bits()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.key.signature_algorithm().rcgen()
    }
}

impl rcgen::SigningKey for RcgenSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key.sign(msg).map_err(|e| {
            *self.error.borrow_mut() = Some(e);
            rcgen::Error::RemoteKeyError
        })
    }
}
