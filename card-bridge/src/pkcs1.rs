//! Hashes and the EMSA-PKCS1-v1_5 block the card's raw RSA operation is applied to.
//!
//! PIV cards do "raw RSA" (GENERAL AUTHENTICATE on a full-length block): the host builds
//! `00 01 FF…FF 00 DigestInfo`. PKCS#11 tokens (CKM_RSA_PKCS) take the DigestInfo and pad
//! themselves, so [`digest_info`] is exposed separately.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::asn1::{AnyRef, OctetString};
use der::{Encode, Sequence};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::AlgorithmIdentifierRef;

/// Hashes we sign with. SHA-1 is deliberately absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// HiPKI spells them `SHA256`, `SHA384`, `SHA512`; `SHA-256` and lower case are
    /// accepted too. `None` for anything else (SHA1 included).
    pub fn from_hipki(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().replace('-', "").as_str() {
            "SHA256" => Some(Self::Sha256),
            "SHA384" => Some(Self::Sha384),
            "SHA512" => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The hash's OBJECT IDENTIFIER (NIST, RFC 5754).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => ID_SHA_256,
            Self::Sha384 => ID_SHA_384,
            Self::Sha512 => ID_SHA_512,
        }
    }
}

/// `DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }`
/// (RFC 8017 §9.2), with NULL parameters as note 1 there writes them.
#[derive(Sequence)]
struct DigestInfo<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    digest: OctetString,
}

/// Wrong digest length for the hash, or a modulus too short for the block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaddingError {
    #[error("digest is {got} bytes, {hash:?} needs {want}")]
    DigestLength {
        hash: HashAlg,
        got: usize,
        want: usize,
    },
    #[error("a {modulus_len}-byte modulus is too short for this DigestInfo")]
    ModulusTooShort { modulus_len: usize },
    #[error("DigestInfo: {0}")]
    Encoding(String),
}

/// `DigestInfo` DER for `digest`.
pub fn digest_info(hash: HashAlg, digest: &[u8]) -> Result<Vec<u8>, PaddingError> {
    if digest.len() != hash.output_len() {
        return Err(PaddingError::DigestLength {
            hash,
            got: digest.len(),
            want: hash.output_len(),
        });
    }
    let encoding = |e: der::Error| PaddingError::Encoding(e.to_string());
    DigestInfo {
        algorithm: AlgorithmIdentifierRef {
            oid: hash.oid(),
            parameters: Some(AnyRef::NULL),
        },
        digest: OctetString::new(digest).map_err(encoding)?,
    }
    .to_der()
    .map_err(encoding)
}

/// EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2): `00 01 PS 00 DigestInfo`, `modulus_len` bytes,
/// PS at least 8 bytes of `FF`.
pub fn pkcs1_v15_block(
    hash: HashAlg,
    digest: &[u8],
    modulus_len: usize,
) -> Result<Vec<u8>, PaddingError> {
    let t = digest_info(hash, digest)?;
    if modulus_len < t.len() + 11 {
        return Err(PaddingError::ModulusTooShort { modulus_len });
    }
    let mut block = Vec::with_capacity(modulus_len);
    block.extend([0x00, 0x01]);
    block.resize(modulus_len - t.len() - 1, 0xFF);
    block.push(0x00);
    block.extend_from_slice(&t);
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_sha1_is_refused() {
        assert_eq!(HashAlg::from_hipki("SHA256"), Some(HashAlg::Sha256));
        assert_eq!(HashAlg::from_hipki("sha-384"), Some(HashAlg::Sha384));
        assert_eq!(HashAlg::from_hipki("SHA512"), Some(HashAlg::Sha512));
        assert_eq!(HashAlg::from_hipki("SHA1"), None);
        assert_eq!(HashAlg::from_hipki(""), None);
    }

    #[test]
    fn block_layout_matches_rfc8017() {
        let digest = HashAlg::Sha256.digest(b"abc");
        let block = pkcs1_v15_block(HashAlg::Sha256, &digest, 256).unwrap();
        assert_eq!(block.len(), 256);
        assert_eq!(&block[..2], &[0x00, 0x01]);
        let ps_end = 256 - 19 - 32 - 1;
        assert!(block[2..ps_end].iter().all(|&b| b == 0xFF));
        assert_eq!(block[ps_end], 0x00);
        // RFC 8017 §9.2 note 1: the DigestInfo prefix for SHA-256.
        assert_eq!(
            &block[ps_end + 1..ps_end + 20],
            &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20
            ]
        );
        assert_eq!(&block[256 - 32..], digest.as_slice());
    }

    #[test]
    fn digest_info_is_what_rsa_pkcs1_v15_signs() {
        // Signing our DigestInfo without a prefix must equal a normal PKCS#1 v1.5 signature:
        // then a card's raw RSA on our block is a valid PKCS#1 v1.5 signature too.
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        for (hash, scheme) in [
            (HashAlg::Sha256, rsa::Pkcs1v15Sign::new::<sha2::Sha256>()),
            (HashAlg::Sha384, rsa::Pkcs1v15Sign::new::<sha2::Sha384>()),
            (HashAlg::Sha512, rsa::Pkcs1v15Sign::new::<sha2::Sha512>()),
        ] {
            let digest = hash.digest(b"challenge");
            let ours = key
                .sign(
                    rsa::Pkcs1v15Sign::new_unprefixed(),
                    &digest_info(hash, &digest).unwrap(),
                )
                .unwrap();
            assert_eq!(ours, key.sign(scheme, &digest).unwrap(), "{hash:?}");
        }
    }

    #[test]
    fn wrong_lengths_are_errors() {
        assert!(matches!(
            pkcs1_v15_block(HashAlg::Sha256, &[0; 31], 256),
            Err(PaddingError::DigestLength { .. })
        ));
        assert!(matches!(
            pkcs1_v15_block(HashAlg::Sha512, &[0; 64], 64),
            Err(PaddingError::ModulusTooShort { .. })
        ));
    }
}
