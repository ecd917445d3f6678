//! The CA's signing key.
//!
//! RSA keys are generated with the pure-Rust `rsa` crate (ring cannot generate RSA keys and
//! aws-lc-rs needs cmake and a C toolchain; `rsa` 0.10 makes a 3072-bit key in well under
//! a second natively) and then used through ring: PKCS#1 v1.5 is deterministic, and ring's
//! assembly is several times faster than `rsa` at signing. Operator-supplied P-256 keys sign
//! with the `p256` crate, whose RFC 6979 nonces keep ECDSA signatures deterministic too.
//! Key bytes never reach a log: there is no Debug impl that shows them.

use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rsa::pkcs1::DecodeRsaPrivateKey;
use zeroize::Zeroizing;

use crate::CaError;
use crate::der;
use crate::oid;
use crate::pem;
use crate::spki::{self, PublicKey};

pub(crate) struct CaKey {
    signer: Signer,
    /// PKCS#8 `PrivateKeyInfo`, kept for [`crate::Ca::key_pem`].
    pkcs8: Zeroizing<Vec<u8>>,
}

enum Signer {
    Rsa(RsaKeyPair),
    P256(p256::ecdsa::SigningKey),
}

impl CaKey {
    pub(crate) fn generate_rsa(bits: usize) -> Result<Self, CaError> {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
            .map_err(|e| CaError::Build(format!("RSA key generation failed: {e}")))?;
        let pkcs8 = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&key)
            .map_err(|e| CaError::Build(format!("RSA key encoding failed: {e}")))?;
        Self::rsa_from_pkcs8(Zeroizing::new(pkcs8.as_bytes().to_vec()))
            .map_err(|e| CaError::Build(format!("generated RSA key refused: {e}")))
    }

    /// PKCS#8 (RSA or P-256), PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY` PEM.
    pub(crate) fn from_pem(text: &str) -> Result<Self, CaError> {
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
            "ENCRYPTED PRIVATE KEY" => Err(CaError::Load(
                "the CA key is encrypted; store it decrypted with restricted file permissions"
                    .into(),
            )),
            _ => match RsaKeyPair::from_pkcs8(&der) {
                Ok(pair) => Ok(CaKey {
                    signer: Signer::Rsa(pair),
                    pkcs8: der,
                }),
                Err(rsa_err) => match p256::SecretKey::from_pkcs8_der(&der) {
                    Ok(key) => Self::p256(key),
                    Err(_) => Err(CaError::Load(format!(
                        "PRIVATE KEY is neither an RSA 2048-4096 key nor a P-256 key ({rsa_err})"
                    ))),
                },
            },
        }
    }

    fn rsa_from_pkcs8(pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, CaError> {
        let pair = RsaKeyPair::from_pkcs8(&pkcs8)
            .map_err(|e| CaError::Load(format!("RSA key refused: {e}")))?;
        Ok(CaKey {
            signer: Signer::Rsa(pair),
            pkcs8,
        })
    }

    fn p256(key: p256::SecretKey) -> Result<Self, CaError> {
        // Re-encoded once here so `key_pem` cannot fail later.
        let doc = key
            .to_pkcs8_der()
            .map_err(|e| CaError::Load(format!("P-256 key encoding failed: {e}")))?;
        Ok(CaKey {
            signer: Signer::P256(key.into()),
            pkcs8: Zeroizing::new(doc.as_bytes().to_vec()),
        })
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey, CaError> {
        match &self.signer {
            Signer::Rsa(pair) => spki::rsa_from_pkcs1(pair.public().as_ref())
                .map_err(|e| CaError::Load(format!("RSA public key: {e}"))),
            Signer::P256(key) => Ok(PublicKey::EcP256 {
                point: key.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
            }),
        }
    }

    /// The `AlgorithmIdentifier` of this key's signatures.
    pub(crate) fn signature_algorithm(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Rsa(_) => der::algorithm_null(oid::SHA256_WITH_RSA),
            Signer::P256(_) => der::algorithm_bare(oid::ECDSA_WITH_SHA256),
        }
    }

    /// Signs `tbs`; the same input always gives the same signature.
    pub(crate) fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, CaError> {
        match &self.signer {
            Signer::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public().modulus_len()];
                // The generator only randomises ring's blinding; PKCS#1 v1.5 output is fixed.
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &ring::rand::SystemRandom::new(),
                    tbs,
                    &mut sig,
                )
                .map_err(|_| CaError::Build("RSA signing failed".into()))?;
                Ok(sig)
            }
            Signer::P256(key) => {
                let sig: p256::ecdsa::Signature = key
                    .try_sign(tbs)
                    .map_err(|_| CaError::Build("ECDSA signing failed".into()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }

    pub(crate) fn pkcs8_pem(&self) -> Zeroizing<String> {
        pem::encode_secret("PRIVATE KEY", &self.pkcs8)
    }
}
