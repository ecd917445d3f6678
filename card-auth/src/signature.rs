//! Signature checks, for certificates in the chain and for the card's login signature.
//! Allow-listed algorithms only: RSA (≥ 2048 bits) PKCS#1 v1.5 with SHA-256/384/512, and
//! ECDSA P-256 with SHA-256. SHA-1 and RSA-PSS are refused.

use p256::ecdsa::signature::Verifier;
use rsa::Pkcs1v15Sign;
use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::CardAuthError;

const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const OID_SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
const OID_SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";
const OID_ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";

/// Smallest RSA modulus we accept anywhere in a login.
pub const MIN_RSA_BITS: usize = 2048;

/// A public key we know how to verify with.
pub(crate) enum PublicKey {
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<Self, CardAuthError> {
        let algorithm = spki.algorithm.algorithm.to_id_string();
        match algorithm.as_str() {
            OID_RSA_ENCRYPTION => {
                let key = RsaPublicKey::from_public_key_der(spki.raw).map_err(|e| {
                    CardAuthError::UnsupportedAlgorithm(format!("RSA public key: {e}"))
                })?;
                let bits = key.size() * 8;
                if bits < MIN_RSA_BITS {
                    return Err(CardAuthError::UnsupportedAlgorithm(format!(
                        "RSA key of {bits} bits (minimum {MIN_RSA_BITS})"
                    )));
                }
                Ok(Self::Rsa(key))
            }
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string());
                if curve.as_deref() != Some(OID_P256) {
                    return Err(CardAuthError::UnsupportedAlgorithm(format!(
                        "EC key on curve {}",
                        curve.unwrap_or_else(|| "?".into())
                    )));
                }
                let key =
                    p256::ecdsa::VerifyingKey::from_public_key_der(spki.raw).map_err(|e| {
                        CardAuthError::UnsupportedAlgorithm(format!("P-256 public key: {e}"))
                    })?;
                Ok(Self::P256(key))
            }
            other => Err(CardAuthError::UnsupportedAlgorithm(format!(
                "public key algorithm {other}"
            ))),
        }
    }

    /// Modulus length in bytes for RSA; a raw RSA signature must have exactly this length.
    fn rsa_len(&self) -> Option<usize> {
        match self {
            Self::Rsa(k) => Some(k.size()),
            Self::P256(_) => None,
        }
    }
}

/// Checks a certificate signature made with `algorithm_oid` by the holder of `issuer`.
/// `Ok(false)` means "does not verify"; errors mean we refuse the algorithm itself.
pub(crate) fn verify_certificate_signature(
    issuer: &PublicKey,
    algorithm_oid: &str,
    tbs: &[u8],
    signature: &[u8],
) -> Result<bool, CardAuthError> {
    match (issuer, algorithm_oid) {
        (PublicKey::Rsa(key), OID_SHA256_WITH_RSA) => Ok(rsa_ok::<Sha256>(key, tbs, signature)),
        (PublicKey::Rsa(key), OID_SHA384_WITH_RSA) => Ok(rsa_ok::<Sha384>(key, tbs, signature)),
        (PublicKey::Rsa(key), OID_SHA512_WITH_RSA) => Ok(rsa_ok::<Sha512>(key, tbs, signature)),
        (PublicKey::P256(key), OID_ECDSA_WITH_SHA256) => Ok(p256_ok(key, tbs, signature)),
        (_, other) => Err(CardAuthError::UnsupportedAlgorithm(format!(
            "certificate signature algorithm {other} with this issuer key"
        ))),
    }
}

/// Checks a signature of `issuer` (a CA certificate) over `tbs`, e.g. a certificate's or a
/// CRL's. `Ok(false)` means "does not verify"; errors mean we refuse the key or algorithm.
pub(crate) fn signed_by(
    issuer: &x509_parser::certificate::X509Certificate<'_>,
    algorithm: &x509_parser::x509::AlgorithmIdentifier<'_>,
    tbs: &[u8],
    signature: &[u8],
) -> Result<bool, CardAuthError> {
    let key = PublicKey::from_spki(issuer.public_key())?;
    verify_certificate_signature(&key, &algorithm.algorithm.to_id_string(), tbs, signature)
}

/// Checks the card's signature over the challenge: RSA PKCS#1 v1.5 (the DigestInfo inside
/// names the hash; SHA-256/384/512 accepted, SHA-1 recognised and refused) or ECDSA P-256
/// with SHA-256 (DER or raw r‖s).
pub(crate) fn verify_login_signature(
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CardAuthError> {
    match key {
        PublicKey::Rsa(rsa_key) => {
            if Some(signature.len()) != key.rsa_len() {
                return Err(CardAuthError::BadSignatureEncoding);
            }
            if rsa_ok::<Sha256>(rsa_key, message, signature)
                || rsa_ok::<Sha384>(rsa_key, message, signature)
                || rsa_ok::<Sha512>(rsa_key, message, signature)
            {
                Ok(())
            } else if rsa_ok::<Sha1>(rsa_key, message, signature) {
                Err(CardAuthError::UnsupportedHash("SHA-1"))
            } else {
                Err(CardAuthError::BadSignature)
            }
        }
        PublicKey::P256(ec_key) => {
            if p256_ok(ec_key, message, signature) {
                Ok(())
            } else {
                Err(CardAuthError::BadSignature)
            }
        }
    }
}

fn rsa_ok<D>(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool
where
    D: Digest + sha2::digest::const_oid::AssociatedOid,
{
    let digest = D::digest(message);
    key.verify(Pkcs1v15Sign::new::<D>(), &digest, signature)
        .is_ok()
}

fn p256_ok(key: &p256::ecdsa::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    let parsed = p256::ecdsa::Signature::from_der(signature)
        .or_else(|_| p256::ecdsa::Signature::from_slice(signature));
    parsed.is_ok_and(|sig| key.verify(message, &sig).is_ok())
}
