//! Subject public keys: parsed strictly, re-encoded canonically, and used to verify
//! signatures. Only RSA and ECDSA P-256 exist for this CA; every other algorithm is refused
//! by name.

use ring::signature::{self as rs, UnparsedPublicKey};
use sha1::{Digest, Sha1};
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use crate::der;
use crate::oid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// Modulus and exponent magnitudes, no leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Uncompressed SEC1 point, 65 bytes.
    EcP256 { point: Vec<u8> },
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
    if oid::is(&alg.algorithm, oid::RSA_ENCRYPTION) {
        if !params_null_or_absent(alg) {
            return Err(SpkiError::Malformed(
                "rsaEncryption parameters must be NULL".into(),
            ));
        }
        rsa_from_pkcs1(&bits.data).map_err(SpkiError::Malformed)
    } else if oid::is(&alg.algorithm, oid::EC_PUBLIC_KEY) {
        let curve = alg.parameters.as_ref().and_then(|p| p.as_oid().ok());
        match curve {
            Some(c) if oid::is(&c, oid::PRIME256V1) => {
                let point = bits.data.to_vec();
                if point.len() != 65 || point[0] != 0x04 {
                    return Err(SpkiError::Malformed(
                        "P-256 public key must be an uncompressed point".into(),
                    ));
                }
                p256::PublicKey::from_sec1_bytes(&point)
                    .map_err(|_| SpkiError::Malformed("P-256 point is not on the curve".into()))?;
                Ok(PublicKey::EcP256 { point })
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

/// An `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
pub(crate) fn rsa_from_pkcs1(input: &[u8]) -> Result<PublicKey, String> {
    let bad = || "RSAPublicKey is not valid DER".to_owned();
    let (tag, seq, rest) = der::read(input).ok_or_else(bad)?;
    if tag != der::SEQUENCE || !rest.is_empty() {
        return Err(bad());
    }
    let (tag_n, n, seq) = der::read(seq).ok_or_else(bad)?;
    let (tag_e, e, seq) = der::read(seq).ok_or_else(bad)?;
    if tag_n != der::INTEGER || tag_e != der::INTEGER || !seq.is_empty() {
        return Err(bad());
    }
    let n = der::positive_integer(n).ok_or_else(bad)?;
    let e = der::positive_integer(e).ok_or_else(bad)?;
    if n.is_empty() || e.is_empty() {
        return Err(bad());
    }
    Ok(PublicKey::Rsa {
        n: n.to_vec(),
        e: e.to_vec(),
    })
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
        (&[1, 3, 101, 112], "Ed25519"),
        (&[1, 3, 101, 113], "Ed448"),
        (&[1, 2, 840, 10040, 4, 1], "DSA"),
        (&[1, 2, 840, 10040, 4, 3], "dsa-with-SHA1"),
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
    let found = if oid::is(o, oid::SHA256_WITH_RSA) {
        Some((SigAlg::RsaSha256, params_null_or_absent(alg)))
    } else if oid::is(o, oid::SHA384_WITH_RSA) {
        Some((SigAlg::RsaSha384, params_null_or_absent(alg)))
    } else if oid::is(o, oid::SHA512_WITH_RSA) {
        Some((SigAlg::RsaSha512, params_null_or_absent(alg)))
    } else if oid::is(o, oid::ECDSA_WITH_SHA256) {
        Some((SigAlg::EcdsaSha256, params_absent(alg)))
    } else if oid::is(o, oid::ECDSA_WITH_SHA384) {
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
    pub(crate) fn key_bits(&self) -> Vec<u8> {
        match self {
            PublicKey::Rsa { n, e } => der::sequence(&[&der::unsigned(n), &der::unsigned(e)]),
            PublicKey::EcP256 { point } => point.clone(),
        }
    }

    /// Canonical `SubjectPublicKeyInfo` DER.
    pub(crate) fn to_spki_der(&self) -> Vec<u8> {
        let alg = match self {
            PublicKey::Rsa { .. } => der::algorithm_null(oid::RSA_ENCRYPTION),
            PublicKey::EcP256 { .. } => {
                der::sequence(&[&der::oid(oid::EC_PUBLIC_KEY), &der::oid(oid::PRIME256V1)])
            }
        };
        der::sequence(&[&alg, &der::bit_string(&self.key_bits())])
    }

    /// RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. SHA-1 is fine for an
    /// identifier and is what OpenSSL computes, so AKI/SKI chains match other tools.
    pub(crate) fn key_id(&self) -> Vec<u8> {
        Sha1::digest(self.key_bits()).to_vec()
    }

    pub(crate) fn rsa_bits(&self) -> Option<u32> {
        match self {
            PublicKey::Rsa { n, .. } => n
                .first()
                .map(|top| (n.len() as u32 - 1) * 8 + (8 - top.leading_zeros())),
            PublicKey::EcP256 { .. } => None,
        }
    }

    /// Whether `signature` over `message` verifies with this key under `alg`.
    pub(crate) fn verify(&self, alg: SigAlg, message: &[u8], signature: &[u8]) -> bool {
        let algorithm: &dyn rs::VerificationAlgorithm = match (self, alg) {
            (PublicKey::Rsa { .. }, SigAlg::RsaSha256) => &rs::RSA_PKCS1_2048_8192_SHA256,
            (PublicKey::Rsa { .. }, SigAlg::RsaSha384) => &rs::RSA_PKCS1_2048_8192_SHA384,
            (PublicKey::Rsa { .. }, SigAlg::RsaSha512) => &rs::RSA_PKCS1_2048_8192_SHA512,
            (PublicKey::EcP256 { .. }, SigAlg::EcdsaSha256) => &rs::ECDSA_P256_SHA256_ASN1,
            (PublicKey::EcP256 { .. }, SigAlg::EcdsaSha384) => &rs::ECDSA_P256_SHA384_ASN1,
            _ => return false,
        };
        UnparsedPublicKey::new(algorithm, self.key_bits())
            .verify(message, signature)
            .is_ok()
    }
}
