//! Password-based encryption of PKCS#12 contents and the integrity MAC, per profile, with
//! the `pkcs12` crate's KDF (RFC 7292 appendix B) and parameter types.
//!
//! `compatible`: pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 C) and HMAC-SHA1, what
//! Windows 7, old Java, Android and macOS Keychain read, and OpenSSL 3 without `-legacy`.
//! `modern`: PBES2 (RFC 8018) with PBKDF2-HMAC-SHA256 and AES-256-CBC, and HMAC-SHA256,
//! which is OpenSSL 3's default.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use der::asn1::{Any, OctetString};
use hmac::{KeyInit, Mac};
use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
use pkcs12::pbe_params::{Pbes2Params, Pbkdf2Params, Pkcs12PbeParams};
use pkcs12::{DigestInfo, MacData};
use spki::AlgorithmIdentifierOwned;

use super::{Fill, Profile};
use crate::error::KeygenError;
use crate::oid::{self, Oid};

pub const COMPATIBLE_ITERATIONS: u32 = 2048;
pub const MODERN_ITERATIONS: u32 = 10_000;

impl Profile {
    pub fn iterations(self) -> u32 {
        match self {
            Profile::Compatible => COMPATIBLE_ITERATIONS,
            Profile::Modern => MODERN_ITERATIONS,
        }
    }
}

/// Ciphertext and the `AlgorithmIdentifier` (with parameters) that decrypts it.
pub struct Encrypted {
    pub algorithm: AlgorithmIdentifierOwned,
    pub ciphertext: Vec<u8>,
}

fn random<const N: usize>(fill: &mut Fill<'_>) -> Result<[u8; N], KeygenError> {
    let mut b = [0u8; N];
    fill(&mut b)?;
    Ok(b)
}

fn crypto(e: impl std::fmt::Display) -> KeygenError {
    KeygenError::Crypto(e.to_string())
}

fn encoding(_: der::Error) -> KeygenError {
    KeygenError::Crypto("DER encoding".into())
}

pub(crate) fn octets(bytes: &[u8]) -> Result<OctetString, KeygenError> {
    OctetString::new(bytes).map_err(encoding)
}

/// `value` as an ASN.1 `ANY` (an algorithm's parameters, a content, an attribute value).
pub(crate) fn any<T: der::EncodeValue + der::Tagged>(value: &T) -> Result<Any, KeygenError> {
    Any::encode_from(value).map_err(encoding)
}

/// `AlgorithmIdentifier { oid, parameters }`.
pub(crate) fn algorithm<T: der::EncodeValue + der::Tagged>(
    oid: Oid,
    parameters: Option<&T>,
) -> Result<AlgorithmIdentifierOwned, KeygenError> {
    let parameters = match parameters {
        Some(p) => Some(any(p)?),
        None => None,
    };
    Ok(AlgorithmIdentifierOwned { oid, parameters })
}

/// The PKCS#12 KDF over the password (a BMPString with its terminator, as RFC 7292 B.1 says).
fn pkcs12_kdf<D>(
    password: &str,
    salt: &[u8],
    purpose: Pkcs12KeyType,
    iterations: u32,
    len: usize,
) -> Result<Vec<u8>, KeygenError>
where
    D: digest::Digest + digest::FixedOutputReset + digest::block_api::BlockSizeUser,
{
    let rounds = i32::try_from(iterations).map_err(crypto)?;
    // Only fails for characters outside the BMP, which the password rule does not allow.
    derive_key_utf8::<D>(password, salt, purpose, rounds, len)
        .map_err(|_| KeygenError::PasswordFormat)
}

/// Encrypts `plaintext` under `password` with a fresh salt (and IV).
pub fn encrypt(
    profile: Profile,
    password: &str,
    plaintext: &[u8],
    fill: &mut Fill<'_>,
) -> Result<Encrypted, KeygenError> {
    let iterations = profile.iterations();
    match profile {
        Profile::Compatible => {
            let salt: [u8; 8] = random(fill)?;
            let key = pkcs12_kdf::<sha1::Sha1>(
                password,
                &salt,
                Pkcs12KeyType::EncryptionKey,
                iterations,
                24,
            )?;
            let iv = pkcs12_kdf::<sha1::Sha1>(password, &salt, Pkcs12KeyType::Iv, iterations, 8)?;
            let ciphertext = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(crypto)?
                .encrypt_padded_vec::<Pkcs7>(plaintext);
            let params = Pkcs12PbeParams {
                salt: octets(&salt)?,
                iterations: i32::try_from(iterations).map_err(crypto)?,
            };
            Ok(Encrypted {
                algorithm: algorithm(oid::PBE_SHA1_3DES, Some(&params))?,
                ciphertext,
            })
        }
        Profile::Modern => {
            let salt: [u8; 16] = random(fill)?;
            let iv: [u8; 16] = random(fill)?;
            let mut key = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, iterations, &mut key);
            let ciphertext = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv)
                .map_err(crypto)?
                .encrypt_padded_vec::<Pkcs7>(plaintext);
            let kdf = Pbkdf2Params {
                salt: octets(&salt)?,
                iteration_count: iterations,
                key_length: None,
                prf: algorithm(oid::HMAC_WITH_SHA256, Some(&der::asn1::Null))?,
            };
            let params = Pbes2Params {
                kdf: algorithm(oid::PBKDF2, Some(&kdf))?,
                encryption: algorithm(oid::AES256_CBC, Some(&octets(&iv)?))?,
            };
            Ok(Encrypted {
                algorithm: algorithm(oid::PBES2, Some(&params))?,
                ciphertext,
            })
        }
    }
}

/// `MacData` over the encoded `AuthenticatedSafe`: HMAC keyed by the PKCS#12 KDF with the
/// MAC's own hash (RFC 7292 B.4; OpenSSL and NSS do the same for SHA-256).
pub fn mac_data(
    profile: Profile,
    password: &str,
    auth_safe: &[u8],
    fill: &mut Fill<'_>,
) -> Result<MacData, KeygenError> {
    let iterations = profile.iterations();
    let (hash, salt, digest): (Oid, Vec<u8>, Vec<u8>) = match profile {
        Profile::Compatible => {
            let salt: [u8; 8] = random(fill)?;
            let key =
                pkcs12_kdf::<sha1::Sha1>(password, &salt, Pkcs12KeyType::Mac, iterations, 20)?;
            let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).map_err(crypto)?;
            mac.update(auth_safe);
            (
                oid::SHA1,
                salt.to_vec(),
                mac.finalize().into_bytes().to_vec(),
            )
        }
        Profile::Modern => {
            let salt: [u8; 16] = random(fill)?;
            let key =
                pkcs12_kdf::<sha2::Sha256>(password, &salt, Pkcs12KeyType::Mac, iterations, 32)?;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(crypto)?;
            mac.update(auth_safe);
            (
                oid::SHA256,
                salt.to_vec(),
                mac.finalize().into_bytes().to_vec(),
            )
        }
    };
    Ok(MacData {
        mac: DigestInfo {
            algorithm: algorithm(hash, Some(&der::asn1::Null))?,
            digest: octets(&digest)?,
        },
        mac_salt: octets(&salt)?,
        iterations: i32::try_from(iterations).map_err(crypto)?,
    })
}
