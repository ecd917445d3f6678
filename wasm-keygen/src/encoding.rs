//! PKCS#8 private keys and SubjectPublicKeyInfo for RSA (RFC 8017 A.1) and P-256
//! (RFC 5915, RFC 5480). Written with RustCrypto's `pkcs8` and `spki` types over `der`; the
//! keys inside (RSAPrivateKey, RSAPublicKey, ECPrivateKey) are `der`-derived structures
//! rather than the `pkcs1` and `sec1` crates' types, which also handle multi-prime keys and
//! explicit curve parameters that the portal refuses anyway, at ~3 KB of wasm. Read with the
//! strict reader in [`crate::reader`] (why: see there), so that every rule (multi-prime keys,
//! other curves, an embedded public point that does not match) gives one of this crate's
//! error codes.

use der::asn1::{AnyRef, BitStringRef, OctetStringRef, UintRef};
use der::{Encode, Sequence};
use pkcs8::PrivateKeyInfoRef;
use rsa::BoxedUint;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::error::KeygenError;
use crate::oid;
use crate::reader::{self, Element, Reader};

/// A public key read from a SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq)]
pub enum PublicKey {
    Rsa(RsaPublicKey),
    P256(p256::PublicKey),
}

/// A private key read from a PKCS#8 `PrivateKeyInfo` (no policy checks here).
pub enum Pkcs8Key {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::SecretKey),
}

/// `RSAPrivateKey` (RFC 8017 A.1.2), two-prime: version 0.
#[derive(Sequence)]
struct Pkcs1PrivateKey<'a> {
    version: u8,
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
    private_exponent: UintRef<'a>,
    prime1: UintRef<'a>,
    prime2: UintRef<'a>,
    exponent1: UintRef<'a>,
    exponent2: UintRef<'a>,
    coefficient: UintRef<'a>,
}

/// `RSAPublicKey` (RFC 8017 A.1.1).
#[derive(Sequence)]
struct Pkcs1PublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// `ECPrivateKey` (RFC 5915 section 3), version 1, as written here.
#[derive(Sequence)]
struct EcPrivateKey<'a> {
    version: u8,
    private_key: &'a OctetStringRef,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    parameters: Option<oid::Oid>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    public_key: Option<BitStringRef<'a>>,
}

/// Encoding a structure built here cannot fail short of a bug (lengths are far below the
/// limits), but it is still an error rather than a panic.
fn encoding(_: der::Error) -> KeygenError {
    KeygenError::Crypto("DER encoding".into())
}

// Not inlined: every call site of one type shares one copy (the wasm is size-bound).
#[inline(never)]
pub(crate) fn to_der(value: &impl Encode) -> Result<Vec<u8>, KeygenError> {
    value.to_der().map_err(encoding)
}

fn uint(bytes: &[u8]) -> Result<UintRef<'_>, KeygenError> {
    UintRef::new(bytes).map_err(encoding)
}

#[inline(never)]
fn boxed(bytes: &[u8], bits: u32) -> Result<BoxedUint, KeygenError> {
    BoxedUint::from_be_slice(bytes, bits.max(8))
        .map_err(|_| KeygenError::bad_key("integer too large"))
}

fn rsa_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef {
        oid: oid::RSA_ENCRYPTION,
        parameters: Some(AnyRef::NULL),
    }
}

fn ec_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef {
        oid: oid::EC_PUBLIC_KEY,
        parameters: Some(AnyRef::from(&oid::PRIME256V1)),
    }
}

fn private_key_info(
    algorithm: AlgorithmIdentifierRef<'_>,
    private_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
    let key = OctetStringRef::new(private_key).map_err(encoding)?;
    Ok(Zeroizing::new(to_der(&PrivateKeyInfoRef::new(
        algorithm, key,
    ))?))
}

pub fn rsa_to_pkcs8(key: &RsaPrivateKey) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
    let missing = || KeygenError::Crypto("RSA key without CRT values".into());
    let primes = key.primes();
    let (Some(p), Some(q)) = (primes.first(), primes.get(1)) else {
        return Err(missing());
    };
    let secret = |v: &BoxedUint| Zeroizing::new(v.to_be_bytes());
    let (n, e) = (key.n_bytes(), key.e_bytes());
    let d = secret(key.d());
    let (p, q) = (secret(p), secret(q));
    let dp = secret(key.dp().ok_or_else(missing)?);
    let dq = secret(key.dq().ok_or_else(missing)?);
    let qinv = secret(&key.crt_coefficient().ok_or_else(missing)?);
    let rsa_private_key = Pkcs1PrivateKey {
        version: 0,
        modulus: uint(&n)?,
        public_exponent: uint(&e)?,
        private_exponent: uint(&d)?,
        prime1: uint(&p)?,
        prime2: uint(&q)?,
        exponent1: uint(&dp)?,
        exponent2: uint(&dq)?,
        coefficient: uint(&qinv)?,
    };
    let inner = Zeroizing::new(to_der(&rsa_private_key)?);
    private_key_info(rsa_algorithm(), &inner)
}

pub fn rsa_to_spki(key: &RsaPublicKey) -> Result<Vec<u8>, KeygenError> {
    let (n, e) = (key.n_bytes(), key.e_bytes());
    let rsa_public_key = to_der(&Pkcs1PublicKey {
        modulus: uint(&n)?,
        public_exponent: uint(&e)?,
    })?;
    spki(rsa_algorithm(), &rsa_public_key)
}

fn spki(algorithm: AlgorithmIdentifierRef<'_>, key: &[u8]) -> Result<Vec<u8>, KeygenError> {
    to_der(&SubjectPublicKeyInfoRef {
        algorithm,
        subject_public_key: BitStringRef::from_bytes(key).map_err(encoding)?,
    })
}

pub fn p256_to_pkcs8(key: &p256::SecretKey) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
    let d = Zeroizing::new(key.to_bytes());
    let point = key.public_key().to_sec1_bytes();
    // The curve is named in the PKCS#8 algorithm, so the ECPrivateKey's [0] parameters are
    // left out (RFC 5915 section 3); the [1] public key is kept.
    let ec_private_key = Zeroizing::new(to_der(&EcPrivateKey {
        version: 1,
        private_key: OctetStringRef::new(d.as_slice()).map_err(encoding)?,
        parameters: None,
        public_key: Some(BitStringRef::from_bytes(&point).map_err(encoding)?),
    })?);
    private_key_info(ec_algorithm(), &ec_private_key)
}

pub fn p256_to_spki(key: &p256::PublicKey) -> Result<Vec<u8>, KeygenError> {
    spki(ec_algorithm(), &key.to_sec1_bytes())
}

fn unsupported(what: &str) -> KeygenError {
    KeygenError::UnsupportedAlgorithm(what.into())
}

/// The magnitude of a non-negative INTEGER, without leading zeros.
fn read_big_uint<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], KeygenError> {
    let c = r.expect(reader::INTEGER)?.content;
    match c.first() {
        None => Err(KeygenError::bad_key("empty INTEGER")),
        Some(b) if b & 0x80 != 0 => Err(KeygenError::bad_key("negative INTEGER")),
        Some(_) => Ok(&c[c.iter().position(|b| *b != 0).unwrap_or(c.len())..]),
    }
}

/// Whether an AlgorithmIdentifier names RSA (true) or P-256 (false); anything else is refused.
fn is_rsa(alg: Element<'_>) -> Result<bool, KeygenError> {
    let mut a = Reader::new(alg.content, KeygenError::bad_key);
    let id = a.expect(reader::OID)?.content;
    let params = if a.is_empty() { None } else { Some(a.read()?) };
    a.finish()?;
    if id == oid::RSA_ENCRYPTION.as_bytes() {
        Ok(true)
    } else if id == oid::EC_PUBLIC_KEY.as_bytes() {
        match params {
            Some(p) if p.tag == reader::OID && p.content == oid::PRIME256V1.as_bytes() => Ok(false),
            _ => Err(unsupported("elliptic curve other than P-256")),
        }
    } else {
        Err(unsupported("only RSA and ECDSA P-256 keys are supported"))
    }
}

pub fn parse_pkcs8(pkcs8: &[u8]) -> Result<Pkcs8Key, KeygenError> {
    let bad = KeygenError::bad_key;
    let info = reader::single(pkcs8, reader::SEQUENCE, bad)?;
    let mut r = Reader::new(info.content, bad);
    let version = r.expect(reader::INTEGER)?;
    // v1 (0) or v2 (1, RFC 5958, adds an optional public key after the private key).
    if version.content != [0] && version.content != [1] {
        return Err(bad("unknown PKCS#8 version"));
    }
    let rsa = is_rsa(r.expect(reader::SEQUENCE)?)?;
    let private_key = r.expect(reader::OCTET_STRING)?.content;
    if rsa {
        parse_rsa_private_key(private_key).map(|k| Pkcs8Key::Rsa(Box::new(k)))
    } else {
        parse_ec_private_key(private_key).map(Pkcs8Key::P256)
    }
}

fn parse_rsa_private_key(der_bytes: &[u8]) -> Result<RsaPrivateKey, KeygenError> {
    let bad = KeygenError::bad_key;
    let seq = reader::single(der_bytes, reader::SEQUENCE, bad)?;
    let mut r = Reader::new(seq.content, bad);
    if r.expect(reader::INTEGER)?.content != [0] {
        return Err(unsupported("multi-prime RSA key"));
    }
    let n = read_big_uint(&mut r)?;
    let e = read_big_uint(&mut r)?;
    let d = Zeroizing::new(read_big_uint(&mut r)?.to_vec());
    let p = Zeroizing::new(read_big_uint(&mut r)?.to_vec());
    let q = Zeroizing::new(read_big_uint(&mut r)?.to_vec());
    // dP, dQ and qInv are recomputed by the rsa crate from p and q.
    for _ in 0..3 {
        read_big_uint(&mut r)?;
    }
    r.finish()?;
    let bits = (n.len() * 8) as u32;
    RsaPrivateKey::from_components(
        boxed(n, bits)?,
        boxed(e, (e.len() * 8) as u32)?,
        boxed(&d, bits)?,
        vec![boxed(&p, bits)?, boxed(&q, bits)?],
    )
    .map_err(|_| bad("inconsistent RSA key"))
}

fn parse_ec_private_key(der_bytes: &[u8]) -> Result<p256::SecretKey, KeygenError> {
    let bad = KeygenError::bad_key;
    let seq = reader::single(der_bytes, reader::SEQUENCE, bad)?;
    let mut r = Reader::new(seq.content, bad);
    if r.expect(reader::INTEGER)?.content != [1] {
        return Err(bad("unknown ECPrivateKey version"));
    }
    let d = r.expect(reader::OCTET_STRING)?.content;
    // Optional [0] parameters and [1] public key: checked against the secret below.
    let mut embedded_point = None;
    while !r.is_empty() {
        let e = r.read()?;
        if e.tag == reader::context(0) {
            let curve = reader::single(e.content, reader::OID, bad)?;
            if curve.content != oid::PRIME256V1.as_bytes() {
                return Err(unsupported("elliptic curve other than P-256"));
            }
        }
        if e.tag == reader::context(1) {
            let bits = reader::single(e.content, reader::BIT_STRING, bad)?;
            embedded_point = bits.content.get(1..);
        }
    }
    let key = p256::SecretKey::from_slice(d).map_err(|_| bad("invalid P-256 private key"))?;
    if let Some(point) = embedded_point
        && p256::PublicKey::from_sec1_bytes(point).ok() != Some(key.public_key())
    {
        return Err(bad("public key does not belong to the private key"));
    }
    Ok(key)
}

pub fn parse_spki(spki: &[u8]) -> Result<PublicKey, KeygenError> {
    let bad = KeygenError::bad_key;
    let seq = reader::single(spki, reader::SEQUENCE, bad)?;
    let mut r = Reader::new(seq.content, bad);
    let rsa = is_rsa(r.expect(reader::SEQUENCE)?)?;
    let bits = r.expect(reader::BIT_STRING)?;
    r.finish()?;
    let key = match bits.content.split_first() {
        Some((0, key)) => key,
        _ => return Err(bad("public key BIT STRING with unused bits")),
    };
    if rsa {
        let seq = reader::single(key, reader::SEQUENCE, bad)?;
        let mut k = Reader::new(seq.content, bad);
        let n = read_big_uint(&mut k)?;
        let e = read_big_uint(&mut k)?;
        k.finish()?;
        RsaPublicKey::new(
            boxed(n, (n.len() * 8) as u32)?,
            boxed(e, (e.len() * 8) as u32)?,
        )
        .map(PublicKey::Rsa)
        .map_err(|_| bad("invalid RSA public key"))
    } else {
        p256::PublicKey::from_sec1_bytes(key)
            .map(PublicKey::P256)
            .map_err(|_| bad("invalid P-256 public key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_empty_integers_are_refused() {
        // RSAPublicKey { n = -128, e = 3 } and { n = (empty), e = 3 } inside an RSA SPKI.
        for inner in [
            [0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x03].as_slice(),
            &[0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x03],
        ] {
            let spki = spki(rsa_algorithm(), inner).unwrap();
            assert_eq!(parse_spki(&spki).err().map(|e| e.code()), Some("bad_key"));
        }
    }

    #[test]
    fn spki_of_unsupported_algorithms_is_refused() {
        let ed = to_der(&SubjectPublicKeyInfoRef {
            algorithm: AlgorithmIdentifierRef {
                oid: oid::Oid::new_unwrap("1.3.101.112"),
                parameters: None,
            },
            subject_public_key: BitStringRef::from_bytes(&[0; 32]).unwrap(),
        })
        .unwrap();
        assert_eq!(
            parse_spki(&ed).err().map(|e| e.code()),
            Some("unsupported_algorithm")
        );
        let unused_bits = to_der(&SubjectPublicKeyInfoRef {
            algorithm: ec_algorithm(),
            subject_public_key: BitStringRef::new(4, &[0, 0]).unwrap(),
        })
        .unwrap();
        assert_eq!(
            parse_spki(&unused_bits).err().map(|e| e.code()),
            Some("bad_key")
        );
    }
}
