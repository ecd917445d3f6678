//! PKCS#8 private keys and SubjectPublicKeyInfo for RSA (RFC 8017 A.1) and P-256
//! (RFC 5915, RFC 5480), on the small DER code in [`crate::der`]. Done here rather than
//! with the `pkcs8`/`pkcs1`/`spki` crates to keep a generic ASN.1 library out of the wasm.

use rsa::BoxedUint;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use zeroize::Zeroizing;

use crate::der::{self, Reader};
use crate::error::KeygenError;
use crate::oid;

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

/// INTEGER from unsigned big-endian bytes (leading zeros dropped, sign byte added).
fn big_uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[0u8][..],
    };
    let mut c = Zeroizing::new(Vec::with_capacity(trimmed.len() + 1));
    if trimmed[0] & 0x80 != 0 {
        c.push(0);
    }
    c.extend_from_slice(trimmed);
    der::tlv(der::INTEGER, &c)
}

/// The magnitude of a non-negative INTEGER, without leading zeros.
fn read_big_uint<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], KeygenError> {
    let c = r.expect(der::INTEGER)?.content;
    match c.first() {
        None => Err(KeygenError::bad_key("empty INTEGER")),
        Some(b) if b & 0x80 != 0 => Err(KeygenError::bad_key("negative INTEGER")),
        Some(_) => Ok(&c[c.iter().position(|b| *b != 0).unwrap_or(c.len())..]),
    }
}

fn boxed(bytes: &[u8], bits: u32) -> Result<BoxedUint, KeygenError> {
    BoxedUint::from_be_slice(bytes, bits.max(8))
        .map_err(|_| KeygenError::bad_key("integer too large"))
}

fn private_key_info(algorithm: &[u8], private_key: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(der::sequence(&[
        &der::uint(0),
        algorithm,
        &der::octet_string(private_key),
    ]))
}

fn rsa_algorithm() -> Vec<u8> {
    der::algorithm(oid::RSA_ENCRYPTION, Some(&der::null()))
}

fn ec_algorithm() -> Vec<u8> {
    der::algorithm(oid::EC_PUBLIC_KEY, Some(&der::oid(oid::PRIME256V1)))
}

pub fn rsa_to_pkcs8(key: &RsaPrivateKey) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
    let missing = || KeygenError::Crypto("RSA key without CRT values".into());
    let primes = key.primes();
    let (Some(p), Some(q)) = (primes.first(), primes.get(1)) else {
        return Err(missing());
    };
    let dp = key.dp().ok_or_else(missing)?;
    let dq = key.dq().ok_or_else(missing)?;
    let qinv = key.crt_coefficient().ok_or_else(missing)?;
    let secret = |v: &BoxedUint| Zeroizing::new(big_uint(&v.to_be_bytes()));
    let parts = [
        Zeroizing::new(der::uint(0)),
        Zeroizing::new(big_uint(&key.n_bytes())),
        Zeroizing::new(big_uint(&key.e_bytes())),
        secret(key.d()),
        secret(p),
        secret(q),
        secret(dp),
        secret(dq),
        secret(&qinv),
    ];
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    let rsa_private_key = Zeroizing::new(der::sequence(&refs));
    Ok(private_key_info(&rsa_algorithm(), &rsa_private_key))
}

pub fn rsa_to_spki(key: &RsaPublicKey) -> Vec<u8> {
    let rsa_public_key = der::sequence(&[&big_uint(&key.n_bytes()), &big_uint(&key.e_bytes())]);
    der::sequence(&[&rsa_algorithm(), &der::bit_string(&rsa_public_key)])
}

pub fn p256_to_pkcs8(key: &p256::SecretKey) -> Zeroizing<Vec<u8>> {
    let d = Zeroizing::new(key.to_bytes());
    let point = key.public_key().to_sec1_bytes();
    // ECPrivateKey { version 1, privateKey, [1] publicKey }; the curve is named in the
    // PKCS#8 algorithm, so [0] parameters are left out (RFC 5915 section 3).
    let ec_private_key = Zeroizing::new(der::sequence(&[
        &der::uint(1),
        &Zeroizing::new(der::octet_string(d.as_slice())),
        &der::tlv(der::context(1), &der::bit_string(&point)),
    ]));
    private_key_info(&ec_algorithm(), &ec_private_key)
}

pub fn p256_to_spki(key: &p256::PublicKey) -> Vec<u8> {
    der::sequence(&[&ec_algorithm(), &der::bit_string(&key.to_sec1_bytes())])
}

/// `(algorithm OID, parameters)` of an AlgorithmIdentifier, as raw DER elements.
fn algorithm_of<'a>(alg: der::Element<'a>) -> Result<(&'a [u8], Option<&'a [u8]>), KeygenError> {
    let mut a = Reader::new(alg.content, KeygenError::bad_key);
    let id = a.expect(der::OID)?.raw;
    let params = if a.is_empty() {
        None
    } else {
        Some(a.read()?.raw)
    };
    a.finish()?;
    Ok((id, params))
}

fn unsupported(what: &str) -> KeygenError {
    KeygenError::UnsupportedAlgorithm(what.into())
}

/// Which supported algorithm an AlgorithmIdentifier names.
fn classify(id: &[u8], params: Option<&[u8]>) -> Result<bool, KeygenError> {
    if id == der::oid(oid::RSA_ENCRYPTION) {
        Ok(true)
    } else if id == der::oid(oid::EC_PUBLIC_KEY) {
        if params == Some(der::oid(oid::PRIME256V1).as_slice()) {
            Ok(false)
        } else {
            Err(unsupported("elliptic curve other than P-256"))
        }
    } else {
        Err(unsupported("only RSA and ECDSA P-256 keys are supported"))
    }
}

pub fn parse_pkcs8(pkcs8: &[u8]) -> Result<Pkcs8Key, KeygenError> {
    let bad = KeygenError::bad_key;
    let info = der::single(pkcs8, der::SEQUENCE, bad)?;
    let mut r = Reader::new(info.content, bad);
    let version = r.expect(der::INTEGER)?;
    // v1 (0) or v2 (1, RFC 5958, adds an optional public key after the private key).
    if version.content != [0] && version.content != [1] {
        return Err(bad("unknown PKCS#8 version"));
    }
    let (id, params) = algorithm_of(r.expect(der::SEQUENCE)?)?;
    let is_rsa = classify(id, params)?;
    let private_key = r.expect(der::OCTET_STRING)?.content;
    if is_rsa {
        parse_rsa_private_key(private_key).map(|k| Pkcs8Key::Rsa(Box::new(k)))
    } else {
        parse_ec_private_key(private_key).map(Pkcs8Key::P256)
    }
}

fn parse_rsa_private_key(der_bytes: &[u8]) -> Result<RsaPrivateKey, KeygenError> {
    let bad = KeygenError::bad_key;
    let seq = der::single(der_bytes, der::SEQUENCE, bad)?;
    let mut r = Reader::new(seq.content, bad);
    if r.expect(der::INTEGER)?.content != [0] {
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
    let key = RsaPrivateKey::from_components(
        boxed(n, bits)?,
        boxed(e, (e.len() * 8) as u32)?,
        boxed(&d, bits)?,
        vec![boxed(&p, bits)?, boxed(&q, bits)?],
    )
    .map_err(|_| bad("inconsistent RSA key"))?;
    Ok(key)
}

fn parse_ec_private_key(der_bytes: &[u8]) -> Result<p256::SecretKey, KeygenError> {
    let bad = KeygenError::bad_key;
    let seq = der::single(der_bytes, der::SEQUENCE, bad)?;
    let mut r = Reader::new(seq.content, bad);
    if r.expect(der::INTEGER)?.content != [1] {
        return Err(bad("unknown ECPrivateKey version"));
    }
    let d = r.expect(der::OCTET_STRING)?.content;
    // Optional [0] parameters and [1] public key: checked against the secret below.
    let mut embedded_point = None;
    while !r.is_empty() {
        let e = r.read()?;
        if e.tag == der::context(0) && e.content != der::oid(oid::PRIME256V1).as_slice() {
            return Err(unsupported("elliptic curve other than P-256"));
        }
        if e.tag == der::context(1) {
            let bits = der::single(e.content, der::BIT_STRING, bad)?;
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
    let seq = der::single(spki, der::SEQUENCE, bad)?;
    let mut r = Reader::new(seq.content, bad);
    let (id, params) = algorithm_of(r.expect(der::SEQUENCE)?)?;
    let is_rsa = classify(id, params)?;
    let bits = r.expect(der::BIT_STRING)?;
    r.finish()?;
    let key = match bits.content.split_first() {
        Some((0, key)) => key,
        _ => return Err(bad("public key BIT STRING with unused bits")),
    };
    if is_rsa {
        let seq = der::single(key, der::SEQUENCE, bad)?;
        let mut k = Reader::new(seq.content, bad);
        let n = read_big_uint(&mut k)?;
        let e = read_big_uint(&mut k)?;
        k.finish()?;
        let public = RsaPublicKey::new(
            boxed(n, (n.len() * 8) as u32)?,
            boxed(e, (e.len() * 8) as u32)?,
        )
        .map_err(|_| bad("invalid RSA public key"))?;
        Ok(PublicKey::Rsa(public))
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
    fn integers_get_a_sign_byte_and_lose_leading_zeros() {
        assert_eq!(big_uint(&[0, 0, 0x7f]), vec![2, 1, 0x7f]);
        assert_eq!(big_uint(&[0, 0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(big_uint(&[0, 0]), vec![2, 1, 0]);
        let enc = big_uint(&[0, 0x80, 1]);
        let mut r = Reader::new(&enc, KeygenError::bad_key);
        assert_eq!(read_big_uint(&mut r).unwrap(), &[0x80, 1]);
    }

    #[test]
    fn negative_and_empty_integers_are_refused() {
        for enc in [vec![2, 1, 0x80], vec![2, 0]] {
            let mut r = Reader::new(&enc, KeygenError::bad_key);
            assert_eq!(
                read_big_uint(&mut r).err().map(|e| e.code()),
                Some("bad_key")
            );
        }
    }

    #[test]
    fn spki_of_unsupported_algorithms_is_refused() {
        let ed = der::sequence(&[
            &der::algorithm(&[1, 3, 101, 112], None),
            &der::bit_string(&[0; 32]),
        ]);
        assert_eq!(
            parse_spki(&ed).err().map(|e| e.code()),
            Some("unsupported_algorithm")
        );
        let unused_bits =
            der::sequence(&[&ec_algorithm(), &der::tlv(der::BIT_STRING, &[1, 4, 0, 0])]);
        assert_eq!(
            parse_spki(&unused_bits).err().map(|e| e.code()),
            Some("bad_key")
        );
    }
}
