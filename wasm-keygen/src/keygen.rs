//! Key pairs: generation (RSA 2048/3072/4096, ECDSA P-256), loading from PKCS#8 (ours or
//! WebCrypto's), the SubjectPublicKeyInfo, and SHA-256 signatures for the CSR.

use std::num::NonZeroU32;

use crypto_bigint::BoxedUint;
use crypto_primes::{Flavor, hazmat::SmallFactorsSieve, is_prime};
use getrandom::SysRng;
use p256::elliptic_curve::Generate;
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use zeroize::Zeroizing;

use spki::AlgorithmIdentifierOwned;

use crate::csr;
use crate::encoding::{self, Pkcs8Key, PublicKey};
use crate::error::KeygenError;

/// RSA modulus sizes the portal accepts.
pub const RSA_SIZES: [u32; 3] = [2048, 3072, 4096];
pub const DEFAULT_RSA_BITS: u32 = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Rsa { bits: u32 },
    EcP256,
}

impl KeyAlgorithm {
    /// An RSA algorithm of an allowed size.
    pub fn rsa(bits: u32) -> Result<Self, KeygenError> {
        check_rsa_bits(bits)?;
        Ok(KeyAlgorithm::Rsa { bits })
    }
}

impl Default for KeyAlgorithm {
    fn default() -> Self {
        KeyAlgorithm::Rsa {
            bits: DEFAULT_RSA_BITS,
        }
    }
}

pub fn check_rsa_bits(bits: u32) -> Result<(), KeygenError> {
    if RSA_SIZES.contains(&bits) {
        Ok(())
    } else {
        Err(KeygenError::KeySize(bits))
    }
}

/// A new key pair as bytes: what JavaScript receives and what the vault stores.
#[derive(Clone)]
pub struct GeneratedKey {
    pub algorithm: KeyAlgorithm,
    /// PKCS#8 `PrivateKeyInfo`, DER; wiped from memory on drop.
    pub pkcs8: Zeroizing<Vec<u8>>,
    /// `SubjectPublicKeyInfo`, DER.
    pub spki: Vec<u8>,
}

/// Generates a key pair with the operating system's (or browser's) random generator.
pub fn generate(algorithm: KeyAlgorithm) -> Result<GeneratedKey, KeygenError> {
    let key = match algorithm {
        KeyAlgorithm::Rsa { bits } => {
            check_rsa_bits(bits)?;
            let key = RsaPrivateKey::new(&mut SysRng, bits as usize)
                .map_err(|_| KeygenError::Crypto("RSA key generation failed".into()))?;
            PrivateKey::Rsa(Box::new(key))
        }
        KeyAlgorithm::EcP256 => {
            let key = p256::SecretKey::try_generate_from_rng(&mut SysRng)
                .map_err(|_| KeygenError::Random)?;
            PrivateKey::P256(key)
        }
    };
    Ok(GeneratedKey {
        algorithm,
        pkcs8: key.to_pkcs8()?,
        spki: key.spki()?,
    })
}

/// The public exponent of every RSA key made here (the only one `from_pkcs8` accepts).
const RSA_E: u32 = 65_537;

/// FIPS 186-5 A.1.3: |p - q| must exceed 2^(bits/2 - 100).
const MIN_PRIME_DISTANCE_SHIFT: u32 = 100;

/// One prime factor for an RSA key of `bits` bits with e = 65537, as big-endian bytes
/// (`bits / 16` of them, wiped on drop).
///
/// The search is the one of `rsa::PrivateKey::new` (rsa 0.10, `generate_prime_with_rng`): a
/// random odd start of `bits / 2` bits with the two top bits set, so that the product of two
/// such primes has exactly `bits` bits, then crypto-primes' small-factor sieve and its
/// Baillie-PSW test (Miller-Rabin base 2 + strong Lucas). In addition the prime has
/// p mod e != 1, i.e. gcd(p - 1, e) = 1 (e is prime), which rsa only finds out after both
/// primes are known. Generating the two primes separately lets JavaScript search them in
/// parallel (two Web Workers); [`rsa_key_from_primes`] joins them.
pub fn generate_rsa_prime(bits: u32) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
    loop {
        if let Some(prime) = search_rsa_prime(bits, usize::MAX)? {
            return Ok(prime);
        }
    }
}

/// One slice of [`generate_rsa_prime`]'s search: a fresh random start, then at most
/// `max_candidates` Baillie-PSW tests on what the sieve lets through; `None` when none of
/// them was a suitable prime. A Web Worker calls this in a loop and reads its messages
/// between slices, so that a search whose prime is no longer wanted stops within one slice
/// and the worker stays ready for the next key (terminating and restarting a worker costs
/// more than a slice).
///
/// Every slice starts afresh rather than continuing the previous window: the result is a
/// prime found from a uniformly random start either way, and no secret state has to be kept
/// between calls.
pub fn search_rsa_prime(
    bits: u32,
    max_candidates: usize,
) -> Result<Option<Zeroizing<Vec<u8>>>, KeygenError> {
    check_rsa_bits(bits)?;
    let half = bits / 2;
    // `half` is 1024, 1536 or 2048 after the size check, so this never falls back.
    let bit_length = NonZeroU32::new(half).ok_or(KeygenError::KeySize(bits))?;
    let len = (half / 8) as usize;
    let mut start = Zeroizing::new(vec![0u8; len]);
    getrandom::fill(&mut start).map_err(|_| KeygenError::Random)?;
    // Odd, top two bits set (rsa's `SetBits::TwoMsb`); `half` is a multiple of 8.
    start[0] |= 0xc0;
    start[len - 1] |= 1;
    let start = BoxedUint::from_be_slice(&start, half)
        .map_err(|_| KeygenError::Crypto("prime candidate encoding".into()))?;
    let sieve = SmallFactorsSieve::new(start, bit_length, false)
        .map_err(|_| KeygenError::Crypto("prime sieve".into()))?;
    // The sieve also stops at the end of the `half`-bit range; the caller then starts again.
    Ok(sieve
        .take(max_candidates)
        .find(|c| rem_e(c) != 1 && is_prime(Flavor::Any, c))
        .map(|prime| Zeroizing::new(prime.to_be_bytes().into_vec())))
}

/// 2^(bits/2 - 100), the FIPS 186-5 bound on |p - q|, with the precision of a prime.
fn distance_bound(bits: u32) -> Result<BoxedUint, KeygenError> {
    let len = (bits / 16) as usize;
    let exp = (bits / 2 - MIN_PRIME_DISTANCE_SHIFT) as usize;
    let mut b = vec![0u8; len];
    b[len - 1 - exp / 8] = 1 << (exp % 8);
    BoxedUint::from_be_slice(&b, bits / 2)
        .map_err(|_| KeygenError::Crypto("RSA prime distance bound".into()))
}

/// `x mod e`, from the big-endian bytes (only used to reject p = 1 mod e).
fn rem_e(x: &BoxedUint) -> u64 {
    let bytes = Zeroizing::new(x.to_be_bytes());
    bytes
        .iter()
        .fold(0u64, |r, &b| ((r << 8) | u64::from(b)) % u64::from(RSA_E))
}

/// The RSA key (e = 65537) of two primes from [`generate_rsa_prime`] for the same `bits`.
///
/// Refuses primes of the wrong size or a modulus of the wrong size, and
/// [`KeygenError::PrimesTooClose`] when |p - q| <= 2^(bits/2 - 100) (FIPS 186-5 A.1.3; the
/// caller then generates two new primes). The private exponent is d = e^-1 mod
/// lcm(p - 1, q - 1) (`rsa::PrivateKey::from_p_q`), which also validates the key. Like
/// `from_p_q`, it does not test p and q for primality again: they must come from
/// [`generate_rsa_prime`] (a re-test would add two full Baillie-PSW tests to the critical path).
pub fn rsa_key_from_primes(bits: u32, p: &[u8], q: &[u8]) -> Result<GeneratedKey, KeygenError> {
    check_rsa_bits(bits)?;
    let half = bits / 2;
    let parse = |b: &[u8]| -> Result<BoxedUint, KeygenError> {
        let x = BoxedUint::from_be_slice(b, half)
            .map_err(|_| KeygenError::Crypto("RSA prime of the wrong size".into()))?;
        // Top two bits set: exactly `half` bits and n = p * q of exactly `bits` bits.
        if x.bit_width() != half || !x.bit(half - 2).to_bool() {
            return Err(KeygenError::Crypto("RSA prime of the wrong size".into()));
        }
        Ok(x)
    };
    let (p, q) = (parse(p)?, parse(q)?);
    let diff = Zeroizing::new(if p > q {
        p.wrapping_sub(&q)
    } else {
        q.wrapping_sub(&p)
    });
    if *diff <= distance_bound(bits)? {
        return Err(KeygenError::PrimesTooClose);
    }
    let key = RsaPrivateKey::from_p_q(p, q, BoxedUint::from(RSA_E))
        .map_err(|_| KeygenError::Crypto("RSA key from primes".into()))?;
    let key = PrivateKey::Rsa(Box::new(key));
    if key.algorithm() != (KeyAlgorithm::Rsa { bits }) {
        return Err(KeygenError::Crypto("RSA modulus of the wrong size".into()));
    }
    Ok(GeneratedKey {
        algorithm: KeyAlgorithm::Rsa { bits },
        pkcs8: key.to_pkcs8()?,
        spki: key.spki()?,
    })
}

/// Checks a SubjectPublicKeyInfo (e.g. exported from WebCrypto) against the rules for
/// generated keys: RSA 2048/3072/4096 with e = 65537, or P-256.
pub fn check_public_key(spki: &[u8]) -> Result<KeyAlgorithm, KeygenError> {
    match encoding::parse_spki(spki)? {
        PublicKey::Rsa(key) => {
            let bits = rsa_bits(&key);
            check_rsa_bits(bits)?;
            if *key.e_bytes() != [1, 0, 1] {
                return Err(KeygenError::UnsupportedAlgorithm(
                    "RSA public exponent other than 65537".into(),
                ));
            }
            Ok(KeyAlgorithm::Rsa { bits })
        }
        PublicKey::P256(_) => Ok(KeyAlgorithm::EcP256),
    }
}

/// A private key ready to sign.
#[derive(Clone)]
pub enum PrivateKey {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::SecretKey),
}

/// A signature and the `AlgorithmIdentifier` that names it.
pub struct Signed {
    pub algorithm: AlgorithmIdentifierOwned,
    pub signature: Vec<u8>,
}

impl PrivateKey {
    /// Loads a PKCS#8 `PrivateKeyInfo` holding an RSA key of an allowed size with e = 65537,
    /// or a P-256 key.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeygenError> {
        match encoding::parse_pkcs8(pkcs8)? {
            Pkcs8Key::Rsa(key) => {
                check_rsa_bits(rsa_bits(&RsaPublicKey::from(key.as_ref())))?;
                if *key.e_bytes() != [1, 0, 1] {
                    return Err(KeygenError::UnsupportedAlgorithm(
                        "RSA public exponent other than 65537".into(),
                    ));
                }
                Ok(PrivateKey::Rsa(key))
            }
            Pkcs8Key::P256(key) => Ok(PrivateKey::P256(key)),
        }
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PrivateKey::Rsa(k) => KeyAlgorithm::Rsa {
                bits: rsa_bits(&RsaPublicKey::from(k.as_ref())),
            },
            PrivateKey::P256(_) => KeyAlgorithm::EcP256,
        }
    }

    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
        match self {
            PrivateKey::Rsa(k) => encoding::rsa_to_pkcs8(k),
            PrivateKey::P256(k) => encoding::p256_to_pkcs8(k),
        }
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn spki(&self) -> Result<Vec<u8>, KeygenError> {
        match self {
            PrivateKey::Rsa(k) => encoding::rsa_to_spki(&RsaPublicKey::from(k.as_ref())),
            PrivateKey::P256(k) => encoding::p256_to_spki(&k.public_key()),
        }
    }

    /// Whether `spki` (e.g. from a certificate) is this key's public key. Compares the
    /// key values, not the bytes, so a compressed EC point or other encoding still matches.
    pub fn matches_spki(&self, spki: &[u8]) -> bool {
        match (self, encoding::parse_spki(spki)) {
            (PrivateKey::Rsa(k), Ok(PublicKey::Rsa(p))) => p == RsaPublicKey::from(k.as_ref()),
            (PrivateKey::P256(k), Ok(PublicKey::P256(p))) => p == k.public_key(),
            _ => false,
        }
    }

    /// SHA-256 signature over `message`: RSASSA-PKCS1-v1_5 (blinded) or ECDSA (RFC 6979,
    /// DER-encoded as X.509 wants it).
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Signed, KeygenError> {
        use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
        match self {
            PrivateKey::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.as_ref().clone());
                let sig = signer
                    .try_sign_with_rng(&mut SysRng, message)
                    .map_err(|_| KeygenError::Crypto("RSA signature failed".into()))?;
                Ok(Signed {
                    algorithm: csr::sha256_with_rsa()?,
                    signature: sig.to_vec(),
                })
            }
            PrivateKey::P256(k) => {
                let signer = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::Signature = signer
                    .try_sign(message)
                    .map_err(|_| KeygenError::Crypto("ECDSA signature failed".into()))?;
                Ok(Signed {
                    algorithm: csr::ecdsa_with_sha256(),
                    signature: sig.to_der().as_bytes().to_vec(),
                })
            }
        }
    }
}

fn rsa_bits(key: &RsaPublicKey) -> u32 {
    let n = key.n_bytes();
    let lead = n.first().map_or(8, |b| b.leading_zeros());
    (n.len() as u32) * 8 - lead
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crypto_bigint::ConcatenatingMul;
    use rsa::traits::PrivateKeyParts;
    use std::sync::OnceLock;

    /// One RSA-2048 key shared by the tests of every module (generation is the slow part).
    pub(crate) fn rsa2048() -> &'static GeneratedKey {
        static KEY: OnceLock<GeneratedKey> = OnceLock::new();
        KEY.get_or_init(|| generate(KeyAlgorithm::Rsa { bits: 2048 }).unwrap())
    }

    pub(crate) fn p256() -> &'static GeneratedKey {
        static KEY: OnceLock<GeneratedKey> = OnceLock::new();
        KEY.get_or_init(|| generate(KeyAlgorithm::EcP256).unwrap())
    }

    #[test]
    fn rsa_sizes_are_checked_before_generating() {
        for bits in [0, 1024, 2047, 2049, 8192] {
            assert_eq!(
                generate(KeyAlgorithm::Rsa { bits }).err(),
                Some(KeygenError::KeySize(bits))
            );
            assert_eq!(KeyAlgorithm::rsa(bits), Err(KeygenError::KeySize(bits)));
        }
        assert_eq!(
            KeyAlgorithm::rsa(3072),
            Ok(KeyAlgorithm::Rsa { bits: 3072 })
        );
        assert_eq!(KeyAlgorithm::default(), KeyAlgorithm::Rsa { bits: 2048 });
    }

    #[test]
    fn rsa_2048_round_trips_through_pkcs8() {
        let g = rsa2048();
        assert_eq!(g.algorithm, KeyAlgorithm::Rsa { bits: 2048 });
        let key = PrivateKey::from_pkcs8(&g.pkcs8).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
        assert_eq!(key.spki().unwrap(), g.spki);
        assert!(key.matches_spki(&g.spki));
        assert_eq!(*key.to_pkcs8().unwrap(), *g.pkcs8);
    }

    #[test]
    fn rsa_3072_and_4096_have_their_size() {
        for bits in [3072, 4096] {
            let g = generate(KeyAlgorithm::Rsa { bits }).unwrap();
            let key = PrivateKey::from_pkcs8(&g.pkcs8).unwrap();
            assert_eq!(key.algorithm(), KeyAlgorithm::Rsa { bits });
        }
    }

    fn big(b: &[u8]) -> BoxedUint {
        BoxedUint::from_be_slice_vartime(b)
    }

    /// The primes inside a generated PKCS#8 key, via the rsa crate's own decoder.
    fn primes_of(g: &GeneratedKey) -> (BoxedUint, BoxedUint, BoxedUint) {
        let PrivateKey::Rsa(k) = PrivateKey::from_pkcs8(&g.pkcs8).unwrap() else {
            panic!("not an RSA key")
        };
        let n = BoxedUint::from_be_slice_vartime(&k.n_bytes());
        let [p, q] = k.primes() else {
            panic!("not two primes")
        };
        (n, p.as_ref().clone(), q.as_ref().clone())
    }

    #[test]
    fn rsa_primes_have_the_properties_rsa_needs() {
        for bits in RSA_SIZES {
            let p = generate_rsa_prime(bits).unwrap();
            let half = bits / 2;
            assert_eq!(p.len() as u32, half / 8);
            assert_eq!(p[0] & 0xc0, 0xc0, "top two bits set");
            let x = big(&p);
            assert_eq!(x.bit_width(), half);
            assert!(is_prime(Flavor::Any, &x));
            // gcd(p - 1, 65537) = 1 since 65537 is prime.
            let r =
                x.rem_limb(crypto_bigint::NonZero::new(crypto_bigint::Limb::from(RSA_E)).unwrap());
            assert_ne!(r, crypto_bigint::Limb::ONE);
            assert_ne!(*generate_rsa_prime(bits).unwrap(), *p, "fresh each time");
        }
        assert_eq!(
            generate_rsa_prime(1024).err(),
            Some(KeygenError::KeySize(1024))
        );
    }

    #[test]
    fn prime_search_slices_are_bounded_and_find_valid_primes() {
        // One candidate per slice: most slices find nothing, none panics, and what is found
        // is a prime of the right shape.
        let (mut found, mut empty) = (0, 0);
        while found < 2 {
            match search_rsa_prime(2048, 1).unwrap() {
                Some(p) => {
                    let x = big(&p);
                    assert_eq!(x.bit_width(), 1024);
                    assert_eq!(p[0] & 0xc0, 0xc0);
                    assert!(is_prime(Flavor::Any, &x));
                    assert_ne!(rem_e(&x), 1);
                    found += 1;
                }
                None => empty += 1,
            }
        }
        assert!(
            empty > 0,
            "a 1-candidate slice should usually find no prime"
        );
        // No candidates at all: never a prime.
        for _ in 0..20 {
            assert_eq!(search_rsa_prime(2048, 0).unwrap(), None);
        }
        assert_eq!(
            search_rsa_prime(1024, 8).err(),
            Some(KeygenError::KeySize(1024))
        );
    }

    #[test]
    fn rsa_keys_from_two_primes_are_valid_and_hold_them() {
        use rsa::signature::{Signer, Verifier};
        for bits in RSA_SIZES {
            let p = generate_rsa_prime(bits).unwrap();
            let q = generate_rsa_prime(bits).unwrap();
            let g = rsa_key_from_primes(bits, &p, &q).unwrap();
            assert_eq!(g.algorithm, KeyAlgorithm::Rsa { bits });
            let (n, kp, kq) = primes_of(&g);
            assert_eq!(n, big(&p).concatenating_mul(&big(&q)));
            assert_eq!(n.bit_width(), bits);
            let mut want = [big(&p), big(&q)];
            let mut got = [kp, kq];
            want.sort();
            got.sort();
            assert_eq!(got, want);
            let key = PrivateKey::from_pkcs8(&g.pkcs8).unwrap();
            assert_eq!(key.spki().unwrap(), g.spki);
            // The key signs and its public key verifies (d really is the inverse of e).
            let PrivateKey::Rsa(k) = key else {
                unreachable!()
            };
            let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(*k.clone());
            let sig = signer.sign(b"hello");
            let vk =
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(RsaPublicKey::from(k.as_ref()));
            vk.verify(b"hello", &sig).unwrap();
            assert!(vk.verify(b"hellO", &sig).is_err());
        }
    }

    #[test]
    fn rsa_key_from_primes_rejects_close_wrong_and_mismatched_primes() {
        let p = generate_rsa_prime(2048).unwrap();
        // p and the next prime above it: |p - q| is tiny.
        let mut next = big(&p).wrapping_add(BoxedUint::from(2u32));
        while !is_prime(Flavor::Any, &next) || rem_e(&next) == 1 {
            next = next.wrapping_add(BoxedUint::from(2u32));
        }
        let q = next.to_be_bytes();
        assert_eq!(
            rsa_key_from_primes(2048, &p, &q).err(),
            Some(KeygenError::PrimesTooClose)
        );
        assert_eq!(
            rsa_key_from_primes(2048, &p, &p).err(),
            Some(KeygenError::PrimesTooClose)
        );
        // At the FIPS bound: |p - q| = 2^924 is refused, 2^924 + 2 is not (it is not a prime
        // here, so the rsa crate's checks decide the rest).
        let bound = distance_bound(2048).unwrap();
        assert_eq!(bound.bit_width(), 925);
        let at = big(&p).wrapping_sub(&bound).to_be_bytes();
        assert_eq!(
            rsa_key_from_primes(2048, &p, &at).err(),
            Some(KeygenError::PrimesTooClose)
        );
        let past = big(&p)
            .wrapping_sub(&bound)
            .wrapping_sub(BoxedUint::from(2u32))
            .to_be_bytes();
        assert_ne!(
            rsa_key_from_primes(2048, &p, &past).err(),
            Some(KeygenError::PrimesTooClose)
        );
        // A prime of another key size and one without the second top bit.
        let other = generate_rsa_prime(3072).unwrap();
        assert_eq!(
            rsa_key_from_primes(2048, &p, &other)
                .err()
                .map(|e| e.code()),
            Some("crypto")
        );
        let q = generate_rsa_prime(2048).unwrap();
        let mut low = q.clone();
        low[0] &= 0xbf;
        assert_eq!(
            rsa_key_from_primes(2048, &p, &low).err().map(|e| e.code()),
            Some("crypto")
        );
        assert_eq!(
            rsa_key_from_primes(1024, &p, &q).err(),
            Some(KeygenError::KeySize(1024))
        );
        assert!(rsa_key_from_primes(2048, &p, &q).is_ok());
    }

    #[test]
    fn p256_round_trips_through_pkcs8() {
        let g = p256();
        assert_eq!(g.algorithm, KeyAlgorithm::EcP256);
        let key = PrivateKey::from_pkcs8(&g.pkcs8).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::EcP256);
        assert_eq!(key.spki().unwrap(), g.spki);
        assert!(key.matches_spki(&g.spki));
    }

    #[test]
    fn keys_are_fresh_each_time() {
        let a = generate(KeyAlgorithm::EcP256).unwrap();
        let b = generate(KeyAlgorithm::EcP256).unwrap();
        assert_ne!(a.spki, b.spki);
    }

    #[test]
    fn public_keys_of_other_keys_do_not_match() {
        let rsa = PrivateKey::from_pkcs8(&rsa2048().pkcs8).unwrap();
        let ec = PrivateKey::from_pkcs8(&p256().pkcs8).unwrap();
        assert!(!rsa.matches_spki(&p256().spki));
        assert!(!ec.matches_spki(&rsa2048().spki));
        let other = generate(KeyAlgorithm::EcP256).unwrap();
        assert!(!ec.matches_spki(&other.spki));
        assert!(!rsa.matches_spki(b"garbage"));
    }

    #[test]
    fn rsa_signatures_verify() {
        use rsa::signature::Verifier;
        let key = PrivateKey::from_pkcs8(&rsa2048().pkcs8).unwrap();
        let s = key.sign_sha256(b"hello").unwrap();
        assert_eq!(s.signature.len(), 256);
        let Ok(PublicKey::Rsa(pk)) = encoding::parse_spki(&rsa2048().spki) else {
            panic!("not an RSA key")
        };
        let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
        let sig = rsa::pkcs1v15::Signature::try_from(s.signature.as_slice()).unwrap();
        vk.verify(b"hello", &sig).unwrap();
        assert!(vk.verify(b"hellO", &sig).is_err());
    }

    #[test]
    fn ecdsa_signatures_verify() {
        use p256::ecdsa::signature::Verifier;
        let key = PrivateKey::from_pkcs8(&p256().pkcs8).unwrap();
        let s = key.sign_sha256(b"hello").unwrap();
        assert_eq!(s.algorithm, csr::ecdsa_with_sha256());
        let Ok(PublicKey::P256(pk)) = encoding::parse_spki(&p256().spki) else {
            panic!("not a P-256 key")
        };
        let vk = p256::ecdsa::VerifyingKey::from(pk);
        let sig = p256::ecdsa::Signature::from_der(&s.signature).unwrap();
        vk.verify(b"hello", &sig).unwrap();
        assert!(vk.verify(b"hellO", &sig).is_err());
    }

    #[test]
    fn rejects_bad_and_unsupported_keys() {
        use crate::oid;
        use crate::testder as der;
        assert_eq!(
            PrivateKey::from_pkcs8(b"not der").err().map(|e| e.code()),
            Some("bad_key")
        );
        // A PKCS#8 with the RSA OID but garbage inside.
        let junk = der::sequence(&[
            &der::uint(0),
            &der::algorithm(oid::RSA_ENCRYPTION, Some(&der::null())),
            &der::octet_string(&[1, 2, 3]),
        ]);
        assert_eq!(
            PrivateKey::from_pkcs8(&junk).err().map(|e| e.code()),
            Some("bad_key")
        );
        // Ed25519 and an EC key on another curve (secp384r1).
        let ed = der::sequence(&[
            &der::uint(0),
            &der::algorithm(der::arcs("1.3.101.112"), None),
            &der::octet_string(&[4, 32, 0, 0]),
        ]);
        let p384 = der::sequence(&[
            &der::uint(0),
            &der::algorithm(
                oid::EC_PUBLIC_KEY,
                Some(&der::oid(&der::arcs("1.3.132.0.34"))),
            ),
            &der::octet_string(&[]),
        ]);
        for key in [ed, p384] {
            assert_eq!(
                PrivateKey::from_pkcs8(&key).err().map(|e| e.code()),
                Some("unsupported_algorithm")
            );
        }
    }

    #[test]
    fn rejects_small_rsa_keys_and_odd_exponents() {
        // Built natively (fast at 1024 bits) to prove that imported keys are checked too.
        let small = RsaPrivateKey::new(&mut SysRng, 1024).unwrap();
        let der = encoding::rsa_to_pkcs8(&small).unwrap();
        assert_eq!(
            PrivateKey::from_pkcs8(&der).err(),
            Some(KeygenError::KeySize(1024))
        );
        let e3 =
            RsaPrivateKey::new_with_exp(&mut SysRng, 2048, rsa::BoxedUint::from(3u32)).unwrap();
        let e3 = encoding::rsa_to_pkcs8(&e3).unwrap();
        assert_eq!(
            PrivateKey::from_pkcs8(&e3).err().map(|e| e.code()),
            Some("unsupported_algorithm")
        );
    }
}
