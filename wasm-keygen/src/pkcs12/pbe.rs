//! Password-based encryption of PKCS#12 contents and the integrity MAC, per profile.
//!
//! `compatible`: pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 C) and HMAC-SHA1, what
//! Windows 7, old Java, Android and macOS Keychain read, and OpenSSL 3 without `-legacy`.
//! `modern`: PBES2 (RFC 8018) with PBKDF2-HMAC-SHA256 and AES-256-CBC, and HMAC-SHA256,
//! which is OpenSSL 3's default.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::{KeyInit, Mac};

use super::Profile;
use super::kdf::{self, Purpose};
use crate::der;
use crate::error::KeygenError;
use crate::oid;

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
    pub algorithm: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

fn random<const N: usize>() -> Result<[u8; N], KeygenError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| KeygenError::Random)?;
    Ok(b)
}

fn crypto(e: impl std::fmt::Display) -> KeygenError {
    KeygenError::Crypto(e.to_string())
}

/// Encrypts `plaintext` under `password` with a fresh salt (and IV).
pub fn encrypt(
    profile: Profile,
    password: &str,
    plaintext: &[u8],
) -> Result<Encrypted, KeygenError> {
    let iterations = profile.iterations();
    match profile {
        Profile::Compatible => {
            let salt: [u8; 8] = random()?;
            let pw = kdf::bmp_password(password);
            let key = kdf::derive::<sha1::Sha1>(&pw, &salt, Purpose::Key, iterations, 24);
            let iv = kdf::derive::<sha1::Sha1>(&pw, &salt, Purpose::Iv, iterations, 8);
            let ciphertext = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(crypto)?
                .encrypt_padded_vec::<Pkcs7>(plaintext);
            let params = der::sequence(&[&der::octet_string(&salt), &der::uint(iterations.into())]);
            Ok(Encrypted {
                algorithm: der::algorithm(oid::PBE_SHA1_3DES, Some(&params)),
                ciphertext,
            })
        }
        Profile::Modern => {
            let salt: [u8; 16] = random()?;
            let iv: [u8; 16] = random()?;
            let mut key = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, iterations, &mut key);
            let ciphertext = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv)
                .map_err(crypto)?
                .encrypt_padded_vec::<Pkcs7>(plaintext);
            let kdf_params = der::sequence(&[
                &der::octet_string(&salt),
                &der::uint(iterations.into()),
                &der::algorithm(oid::HMAC_WITH_SHA256, Some(&der::null())),
            ]);
            let params = der::sequence(&[
                &der::algorithm(oid::PBKDF2, Some(&kdf_params)),
                &der::algorithm(oid::AES256_CBC, Some(&der::octet_string(&iv))),
            ]);
            Ok(Encrypted {
                algorithm: der::algorithm(oid::PBES2, Some(&params)),
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
) -> Result<Vec<u8>, KeygenError> {
    let iterations = profile.iterations();
    let pw = kdf::bmp_password(password);
    let (hash_oid, salt, digest): (oid::Oid, Vec<u8>, Vec<u8>) = match profile {
        Profile::Compatible => {
            let salt: [u8; 8] = random()?;
            let key = kdf::derive::<sha1::Sha1>(&pw, &salt, Purpose::Mac, iterations, 20);
            let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).map_err(crypto)?;
            mac.update(auth_safe);
            (
                oid::SHA1,
                salt.to_vec(),
                mac.finalize().into_bytes().to_vec(),
            )
        }
        Profile::Modern => {
            let salt: [u8; 16] = random()?;
            let key = kdf::derive::<sha2::Sha256>(&pw, &salt, Purpose::Mac, iterations, 32);
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(crypto)?;
            mac.update(auth_safe);
            (
                oid::SHA256,
                salt.to_vec(),
                mac.finalize().into_bytes().to_vec(),
            )
        }
    };
    let digest_info = der::sequence(&[
        &der::algorithm(hash_oid, Some(&der::null())),
        &der::octet_string(&digest),
    ]);
    Ok(der::sequence(&[
        &digest_info,
        &der::octet_string(&salt),
        &der::uint(iterations.into()),
    ]))
}
