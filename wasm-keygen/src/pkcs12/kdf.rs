//! The PKCS#12 key derivation function (RFC 7292 appendix B.2), used by the
//! `pbeWithSHAAnd3-KeyTripleDES-CBC` scheme and by every PKCS#12 MAC: the crate's own
//! implementation from before it used the `pkcs12` crate's, kept for the tests as an
//! independent reader of the files (both are checked against OpenSSL's output below).

use sha2::Digest;

/// What the derived bytes are for (RFC 7292 B.3).
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    Key = 1,
    Iv = 2,
    Mac = 3,
}

/// The password as RFC 7292 B.1 wants it: BMPString (UTF-16BE) with a trailing zero.
pub fn bmp_password(password: &str) -> Vec<u8> {
    password
        .encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_be_bytes)
        .collect()
}

/// Derives `len` bytes with hash `D`. `v`, the hash block size, is 64 bytes for both
/// SHA-1 and SHA-256, the only hashes used here.
pub fn derive<D: Digest>(
    bmp_password: &[u8],
    salt: &[u8],
    purpose: Purpose,
    iterations: u32,
    len: usize,
) -> Vec<u8> {
    const V: usize = 64;
    let diversifier = [purpose as u8; V];
    let stretch = |s: &[u8]| -> Vec<u8> {
        let n = s.len().div_ceil(V) * V;
        s.iter().copied().cycle().take(n).collect()
    };
    let mut i = stretch(salt);
    i.extend(stretch(bmp_password));

    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let mut a = D::new()
            .chain_update(diversifier)
            .chain_update(&i)
            .finalize();
        for _ in 1..iterations {
            a = D::digest(&a);
        }
        out.extend_from_slice(&a);
        if out.len() >= len {
            break;
        }
        let b: Vec<u8> = a.iter().copied().cycle().take(V).collect();
        // I_j = (I_j + B + 1) mod 2^(8v), for each v-byte block of I.
        for block in i.chunks_mut(V) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().rev().zip(b.iter().rev()) {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // Expected values computed independently with OpenSSL 3 (the password passed as the
    // BMPString of "smeg", since `openssl kdf` does not convert it):
    //   openssl kdf -keylen N -kdfopt digest:SHA1 -kdfopt hexpass:0073006d006500670000 \
    //     -kdfopt hexsalt:0A58CF64530D823F -kdfopt id:ID -kdfopt iter:ITER PKCS12KDF
    // The 1-iteration SHA-1 values are also the classic BouncyCastle PKCS#12 test vectors.
    #[test]
    fn matches_openssl_sha1_vectors() {
        let pw = bmp_password("smeg");
        let salt = hex("0A58CF64530D823F");
        assert_eq!(
            derive::<sha1::Sha1>(&pw, &salt, Purpose::Key, 1, 24),
            hex("8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3")
        );
        assert_eq!(
            derive::<sha1::Sha1>(&pw, &salt, Purpose::Iv, 1, 8),
            hex("79993DFE048D3B76")
        );
        assert_eq!(
            derive::<sha1::Sha1>(&pw, &salt, Purpose::Key, 1000, 24),
            hex(OPENSSL_SHA1_1000)
        );
    }

    #[test]
    fn matches_openssl_sha256_mac_key() {
        let pw = bmp_password("smeg");
        let salt = hex("0A58CF64530D823F");
        assert_eq!(
            derive::<sha2::Sha256>(&pw, &salt, Purpose::Mac, 2048, 32),
            hex(OPENSSL_SHA256_MAC_2048)
        );
    }

    /// The `pkcs12` crate's KDF, which the PFX writer uses, on the same vectors.
    #[test]
    fn pkcs12_crate_matches_openssl() {
        use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
        let salt = hex("0A58CF64530D823F");
        assert_eq!(
            derive_key_utf8::<sha1::Sha1>("smeg", &salt, Pkcs12KeyType::EncryptionKey, 1, 24)
                .unwrap(),
            hex("8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3")
        );
        assert_eq!(
            derive_key_utf8::<sha1::Sha1>("smeg", &salt, Pkcs12KeyType::Iv, 1, 8).unwrap(),
            hex("79993DFE048D3B76")
        );
        assert_eq!(
            derive_key_utf8::<sha1::Sha1>("smeg", &salt, Pkcs12KeyType::EncryptionKey, 1000, 24)
                .unwrap(),
            hex(OPENSSL_SHA1_1000)
        );
        assert_eq!(
            derive_key_utf8::<sha2::Sha256>("smeg", &salt, Pkcs12KeyType::Mac, 2048, 32).unwrap(),
            hex(OPENSSL_SHA256_MAC_2048)
        );
    }

    #[test]
    fn password_is_bmp_with_terminator() {
        assert_eq!(bmp_password("ab"), vec![0, b'a', 0, b'b', 0, 0]);
        assert_eq!(bmp_password(""), vec![0, 0]);
    }

    const OPENSSL_SHA1_1000: &str = "65A0185313E1BE626A62223EDC56A602E45D07570BD6C447";
    const OPENSSL_SHA256_MAC_2048: &str =
        "E4388CD88983083B1D1552867406CB3426E16CBCF4358C7BF5A97CDB2A11DB46";
}
