//! Textbook RSA from chosen primes, to make CSRs whose keys are weak on purpose (a small
//! factor, close primes, the ROCA structure) yet correctly signed, so the CA refuses them
//! for the key and not for the signature. Test-only: no blinding, no constant time.

use der::Encode as _;
use der::asn1::{AnyRef, BitStringRef, UintRef};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

const RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// `CertificationRequestInfo` (RFC 2986) with the subject and key as ready DER.
#[derive(der::Sequence)]
struct RequestInfo<'a> {
    version: u8,
    subject: AnyRef<'a>,
    spki: AnyRef<'a>,
    /// `attributes [0] IMPLICIT SET OF Attribute`, empty.
    attributes: AnyRef<'a>,
}

/// `CertificationRequest`.
#[derive(der::Sequence)]
struct Request<'a> {
    info: AnyRef<'a>,
    algorithm: AlgorithmIdentifierRef<'a>,
    signature: BitStringRef<'a>,
}

fn rsa_alg(oid: der::asn1::ObjectIdentifier) -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef {
        oid,
        parameters: Some(AnyRef::NULL),
    }
}

pub const E: u32 = 65537;

pub struct RawKey {
    pub n: BigUint,
    pub d: BigUint,
}

impl RawKey {
    /// From distinct primes (two or more); None when e is not invertible modulo
    /// lcm(p_i - 1).
    pub fn from_primes(primes: &[BigUint]) -> Option<Self> {
        let one = BigUint::from(1u32);
        let mut n = one.clone();
        let mut lambda = one.clone();
        for p in primes {
            n *= p;
            let p1 = p - &one;
            let g = gcd(&lambda, &p1);
            lambda = &lambda * &p1 / g;
        }
        let d = BigUint::from(E).modinv(&lambda)?;
        Some(RawKey { n, d })
    }

    pub fn bits(&self) -> u64 {
        self.n.bits()
    }

    pub fn spki(&self) -> Vec<u8> {
        let (n, e) = (self.n.to_bytes_be(), E.to_be_bytes());
        let rsa_pub = rsa::pkcs1::RsaPublicKeyRef {
            modulus: UintRef::new(&n).unwrap(),
            public_exponent: UintRef::new(&e).unwrap(),
        }
        .to_der()
        .unwrap();
        SubjectPublicKeyInfoRef {
            algorithm: rsa_alg(RSA_ENCRYPTION),
            subject_public_key: BitStringRef::from_bytes(&rsa_pub).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let k = self.n.bits().div_ceil(8) as usize;
        let mut t = vec![
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ];
        t.extend_from_slice(&Sha256::digest(message));
        let mut em = vec![0x00, 0x01];
        em.resize(k - t.len() - 1, 0xff);
        em.push(0x00);
        em.extend_from_slice(&t);
        let s = BigUint::from_bytes_be(&em).modpow(&self.d, &self.n);
        let mut out = s.to_bytes_be();
        while out.len() < k {
            out.insert(0, 0);
        }
        out
    }

    /// A PKCS#10 request for this key with `name` (DER Name), signed with the key.
    pub fn csr(&self, name: &[u8]) -> Vec<u8> {
        use der::Decode as _;
        let spki = self.spki();
        let info = RequestInfo {
            version: 0,
            subject: AnyRef::from_der(name).unwrap(),
            spki: AnyRef::from_der(&spki).unwrap(),
            attributes: AnyRef::from_der(&[0xa0, 0x00]).unwrap(),
        }
        .to_der()
        .unwrap();
        let sig = self.sign(&info);
        Request {
            info: AnyRef::from_der(&info).unwrap(),
            algorithm: rsa_alg(SHA256_WITH_RSA),
            signature: BitStringRef::from_bytes(&sig).unwrap(),
        }
        .to_der()
        .unwrap()
    }
}

fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let (mut a, mut b) = (a.clone(), b.clone());
    while b != BigUint::from(0u32) {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

/// Odd primes below 2048, for a cheap sieve before Miller-Rabin.
fn sieve_primes() -> &'static [u32] {
    static PRIMES: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    PRIMES.get_or_init(|| {
        (3u32..2048)
            .step_by(2)
            .filter(|n| {
                (3..)
                    .step_by(2)
                    .take_while(|d| d * d <= *n)
                    .all(|d| n % d != 0)
            })
            .collect()
    })
}

/// Miller-Rabin with 24 random bases, after trial division by small primes.
pub fn is_probable_prime(n: &BigUint) -> bool {
    let one = BigUint::from(1u32);
    let two = BigUint::from(2u32);
    if *n < two {
        return false;
    }
    let digits = n.to_u32_digits();
    for &p in sieve_primes().iter().chain(&[2]) {
        if *n == BigUint::from(p) {
            return true;
        }
        let p = u64::from(p);
        let rem = digits
            .iter()
            .rev()
            .fold(0u64, |r, &d| ((r << 32) | u64::from(d)) % p);
        if rem == 0 {
            return false;
        }
    }
    let n1 = n - &one;
    let s = n1.trailing_zeros().unwrap_or(0);
    let d = &n1 >> s;
    'bases: for _ in 0..24 {
        // Random 64-bit bases: n is far larger, and the candidates are not adversarial.
        let a = BigUint::from(random_u64() | 2);
        let mut x = a.modpow(&d, n);
        if x == one || x == n1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// The smallest probable prime >= `start`.
pub fn next_prime(start: &BigUint) -> BigUint {
    let mut c = start | BigUint::from(1u32);
    while !is_probable_prime(&c) {
        c += 2u32;
    }
    c
}

/// A random prime with exactly `bits` bits and its two top bits set.
pub fn random_prime(bits: u64) -> BigUint {
    let top = BigUint::from(3u32) << (bits - 2);
    let low = random_biguint(bits - 2);
    next_prime(&(top | low))
}

pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_be_bytes(b)
}

/// Uniform below 2^bits.
pub fn random_biguint(bits: u64) -> BigUint {
    let mut bytes = vec![0u8; bits.div_ceil(8) as usize];
    getrandom::fill(&mut bytes).unwrap();
    let n = BigUint::from_bytes_be(&bytes);
    n % (BigUint::from(1u32) << bits)
}
