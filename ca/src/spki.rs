//! Subject public keys: parsed strictly, re-encoded canonically, and used to verify
//! signatures. Only RSA and ECDSA P-256 exist for this CA; every other algorithm is refused
//! by name.

use der::Encode as _;
use der::asn1::{AnyRef, BitStringRef};
use ring::signature::{self as rs, UnparsedPublicKey};
use rsa::pkcs1::RsaPublicKeyRef as RsaPublicKey;
use rsa::pkcs1::der::Decode as _;
use sha1::{Digest, Sha1};
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use crate::oid;

/// A subject or CA public key, with the exact bits of its SPKI's BIT STRING.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKey {
    kind: KeyKind,
    /// The `RSAPublicKey` DER or the uncompressed SEC1 point.
    bits: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyKind {
    /// Modulus and exponent magnitudes, no leading zeros.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    EcP256,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpkiError {
    /// Well-formed but not a key type this CA takes; the name is for the message.
    Unsupported(String),
    Malformed(String),
}

/// Signature algorithms this CA verifies. SHA-1, MD5, PSS and the rest are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigAlg {
    RsaSha256,
    RsaSha384,
    RsaSha512,
    EcdsaSha256,
    EcdsaSha384,
}

pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<PublicKey, SpkiError> {
    let alg = &spki.algorithm;
    let bits = &spki.subject_public_key;
    if bits.unused_bits != 0 {
        return Err(SpkiError::Malformed(
            "public key bit string has unused bits".into(),
        ));
    }
    if oid::is(&alg.algorithm, &oid::RSA_ENCRYPTION) {
        if !params_null_or_absent(alg) {
            return Err(SpkiError::Malformed(
                "rsaEncryption parameters must be NULL".into(),
            ));
        }
        PublicKey::from_rsa_public_key_der(&bits.data).map_err(SpkiError::Malformed)
    } else if oid::is(&alg.algorithm, &oid::EC_PUBLIC_KEY) {
        let curve = alg.parameters.as_ref().and_then(|p| p.as_oid().ok());
        match curve {
            Some(c) if oid::is(&c, &oid::PRIME256V1) => {
                let point = bits.data.to_vec();
                if point.len() != 65 || point[0] != 0x04 {
                    return Err(SpkiError::Malformed(
                        "P-256 public key must be an uncompressed point".into(),
                    ));
                }
                p256::PublicKey::from_sec1_bytes(&point)
                    .map_err(|_| SpkiError::Malformed("P-256 point is not on the curve".into()))?;
                Ok(PublicKey::ec_p256(point))
            }
            Some(c) => Err(SpkiError::Unsupported(format!(
                "EC on curve {}",
                c.to_id_string()
            ))),
            None => Err(SpkiError::Malformed("EC key without a named curve".into())),
        }
    } else {
        Err(SpkiError::Unsupported(algorithm_name(alg)))
    }
}

impl PublicKey {
    /// From an `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`,
    /// strict DER (the `der` decoder refuses non-minimal and negative integers).
    pub(crate) fn from_rsa_public_key_der(input: &[u8]) -> Result<PublicKey, String> {
        let bad = |e: &dyn std::fmt::Display| format!("RSAPublicKey is not valid DER: {e}");
        let key = RsaPublicKey::from_der(input).map_err(|e| bad(&e))?;
        let n = key.modulus.as_bytes();
        let e = key.public_exponent.as_bytes();
        if n.is_empty() || e.is_empty() || n == [0] || e == [0] {
            return Err("RSAPublicKey has a zero modulus or exponent".into());
        }
        Ok(PublicKey {
            bits: key.to_der().map_err(|e| bad(&e))?,
            kind: KeyKind::Rsa {
                n: n.to_vec(),
                e: e.to_vec(),
            },
        })
    }

    /// From the modulus and exponent magnitudes (big-endian), as a token lists them.
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Result<PublicKey, String> {
        let bad = |e: &dyn std::fmt::Display| format!("RSA public key: {e}");
        let der = RsaPublicKey {
            modulus: rsa::pkcs1::UintRef::new(n).map_err(|e| bad(&e))?,
            public_exponent: rsa::pkcs1::UintRef::new(e).map_err(|e| bad(&e))?,
        }
        .to_der()
        .map_err(|e| bad(&e))?;
        Self::from_rsa_public_key_der(&der)
    }

    /// From an uncompressed SEC1 point already checked to be on the curve.
    pub(crate) fn ec_p256(point: Vec<u8>) -> PublicKey {
        PublicKey {
            kind: KeyKind::EcP256,
            bits: point,
        }
    }

    pub(crate) fn is_rsa(&self) -> bool {
        matches!(self.kind, KeyKind::Rsa { .. })
    }

    /// The RSA public exponent's magnitude bytes.
    pub(crate) fn rsa_exponent(&self) -> Option<&[u8]> {
        match &self.kind {
            KeyKind::Rsa { e, .. } => Some(e),
            KeyKind::EcP256 => None,
        }
    }

    /// The RSA modulus's magnitude bytes.
    pub(crate) fn rsa_modulus(&self) -> Option<&[u8]> {
        match &self.kind {
            KeyKind::Rsa { n, .. } => Some(n),
            KeyKind::EcP256 => None,
        }
    }
}

fn params_null_or_absent(alg: &AlgorithmIdentifier<'_>) -> bool {
    match &alg.parameters {
        None => true,
        Some(p) => p.tag() == x509_parser::der_parser::asn1_rs::Tag::Null && p.data.is_empty(),
    }
}

fn params_absent(alg: &AlgorithmIdentifier<'_>) -> bool {
    alg.parameters.is_none()
}

/// Names for the refusal message; unknown algorithms show their dotted OID.
pub(crate) fn algorithm_name(alg: &AlgorithmIdentifier<'_>) -> String {
    const NAMES: [(oid::Oid, &str); 17] = [
        (oid::RSA_ENCRYPTION, "rsaEncryption"),
        (oid::EC_PUBLIC_KEY, "id-ecPublicKey"),
        (oid::MD2_WITH_RSA, "md2WithRSAEncryption"),
        (oid::MD5_WITH_RSA, "md5WithRSAEncryption"),
        (oid::SHA1_WITH_RSA, "sha1WithRSAEncryption"),
        (oid::RSASSA_PSS, "RSASSA-PSS"),
        (oid::SHA256_WITH_RSA, "sha256WithRSAEncryption"),
        (oid::SHA384_WITH_RSA, "sha384WithRSAEncryption"),
        (oid::SHA512_WITH_RSA, "sha512WithRSAEncryption"),
        (oid::ECDSA_WITH_SHA1, "ecdsa-with-SHA1"),
        (oid::ECDSA_WITH_SHA256, "ecdsa-with-SHA256"),
        (oid::ECDSA_WITH_SHA384, "ecdsa-with-SHA384"),
        (oid::ECDSA_WITH_SHA512, "ecdsa-with-SHA512"),
        (oid::ED25519, "Ed25519"),
        (oid::ED448, "Ed448"),
        (oid::DSA, "DSA"),
        (oid::DSA_WITH_SHA1, "dsa-with-SHA1"),
    ];
    NAMES
        .iter()
        .find(|(o, _)| oid::is(&alg.algorithm, o))
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| alg.algorithm.to_id_string())
}

/// The allow-list. Anything else is refused with its name.
pub(crate) fn classify_signature(alg: &AlgorithmIdentifier<'_>) -> Result<SigAlg, String> {
    let o = &alg.algorithm;
    let found = if oid::is(o, &oid::SHA256_WITH_RSA) {
        Some((SigAlg::RsaSha256, params_null_or_absent(alg)))
    } else if oid::is(o, &oid::SHA384_WITH_RSA) {
        Some((SigAlg::RsaSha384, params_null_or_absent(alg)))
    } else if oid::is(o, &oid::SHA512_WITH_RSA) {
        Some((SigAlg::RsaSha512, params_null_or_absent(alg)))
    } else if oid::is(o, &oid::ECDSA_WITH_SHA256) {
        Some((SigAlg::EcdsaSha256, params_absent(alg)))
    } else if oid::is(o, &oid::ECDSA_WITH_SHA384) {
        Some((SigAlg::EcdsaSha384, params_absent(alg)))
    } else {
        None
    };
    match found {
        Some((sig, true)) => Ok(sig),
        Some((_, false)) => Err(format!("{} with parameters", algorithm_name(alg))),
        None => Err(algorithm_name(alg)),
    }
}

impl PublicKey {
    /// The `RSAPublicKey` DER or the SEC1 point: the content of the SPKI's BIT STRING.
    pub(crate) fn key_bits(&self) -> &[u8] {
        &self.bits
    }

    /// Canonical `SubjectPublicKeyInfo` DER.
    pub(crate) fn to_spki_der(&self) -> Vec<u8> {
        let curve;
        let algorithm = match self.kind {
            KeyKind::Rsa { .. } => spki::AlgorithmIdentifierRef {
                oid: oid::RSA_ENCRYPTION,
                parameters: Some(AnyRef::NULL),
            },
            KeyKind::EcP256 => {
                curve = oid::PRIME256V1;
                spki::AlgorithmIdentifierRef {
                    oid: oid::EC_PUBLIC_KEY,
                    parameters: Some(AnyRef::from(&curve)),
                }
            }
        };
        let spki = BitStringRef::from_bytes(&self.bits).map(|subject_public_key| {
            spki::SubjectPublicKeyInfoRef {
                algorithm,
                subject_public_key,
            }
        });
        // Both parts were decoded or built by us; encoding them cannot fail short of running
        // out of memory, and an empty SPKI would be refused by every reader.
        spki.and_then(|s| s.to_der()).unwrap_or_default()
    }

    /// RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. SHA-1 is fine for an
    /// identifier and is what OpenSSL computes, so AKI/SKI chains match other tools.
    pub(crate) fn key_id(&self) -> Vec<u8> {
        Sha1::digest(&self.bits).to_vec()
    }

    pub(crate) fn rsa_bits(&self) -> Option<u32> {
        match &self.kind {
            KeyKind::Rsa { n, .. } => n
                .first()
                .map(|top| (n.len() as u32 - 1) * 8 + (8 - top.leading_zeros())),
            KeyKind::EcP256 => None,
        }
    }

    /// Whether `signature` over `message` verifies with this key under `alg`.
    pub(crate) fn verify(&self, alg: SigAlg, message: &[u8], signature: &[u8]) -> bool {
        let algorithm: &dyn rs::VerificationAlgorithm = match (&self.kind, alg) {
            (KeyKind::Rsa { .. }, SigAlg::RsaSha256) => &rs::RSA_PKCS1_2048_8192_SHA256,
            (KeyKind::Rsa { .. }, SigAlg::RsaSha384) => &rs::RSA_PKCS1_2048_8192_SHA384,
            (KeyKind::Rsa { .. }, SigAlg::RsaSha512) => &rs::RSA_PKCS1_2048_8192_SHA512,
            (KeyKind::EcP256, SigAlg::EcdsaSha256) => &rs::ECDSA_P256_SHA256_ASN1,
            (KeyKind::EcP256, SigAlg::EcdsaSha384) => &rs::ECDSA_P256_SHA384_ASN1,
            _ => return false,
        };
        UnparsedPublicKey::new(algorithm, &self.bits)
            .verify(message, signature)
            .is_ok()
    }
}
