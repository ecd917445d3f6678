//! Round trips through an independent test-only reader (MAC check and decryption), plus
//! every rejection. Interoperability with OpenSSL, Java, NSS and pyca is in `tests/`.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use hmac::{KeyInit, Mac};

use super::kdf::{self, Purpose};
use super::*;
use crate::cert::tests::fake_cert;
use crate::keygen::tests::{p256, rsa2048};
use crate::pem;
use crate::testder::{self as der, Reader};

fn bad(why: &'static str) -> KeygenError {
    KeygenError::BadCertificate(why.into())
}

fn children(content: &[u8]) -> Vec<der::Element<'_>> {
    let mut r = Reader::new(content, bad);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(r.read().unwrap());
    }
    v
}

#[derive(Debug, PartialEq)]
struct Bag {
    id: Vec<u8>,
    value: Vec<u8>,
    friendly_name: Option<String>,
    local_key_id: Option<Vec<u8>>,
}

#[derive(Debug)]
struct Opened {
    bags: Vec<Bag>,
    /// Encryption AlgorithmIdentifier OIDs of (certs, key).
    algorithms: Vec<Vec<u8>>,
    mac_hash: Vec<u8>,
    mac_iterations: Vec<u8>,
}

fn decrypt(algorithm: &[u8], password: &str, ct: &[u8]) -> Vec<u8> {
    let alg = children(der::single(algorithm, der::SEQUENCE, bad).unwrap().content);
    let params = children(alg[1].content);
    if alg[0].raw == der::oid(&oid::PBE_SHA1_3DES) {
        let salt = params[0].content;
        let iter = u32::from_be_bytes(pad4(params[1].content));
        let pw = kdf::bmp_password(password);
        let key = kdf::derive::<sha1::Sha1>(&pw, salt, Purpose::Key, iter, 24);
        let iv = kdf::derive::<sha1::Sha1>(&pw, salt, Purpose::Iv, iter, 8);
        cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .unwrap()
            .decrypt_padded_vec::<Pkcs7>(ct)
            .unwrap()
    } else {
        assert_eq!(alg[0].raw, der::oid(&oid::PBES2));
        let kdf_alg = children(params[0].content);
        assert_eq!(kdf_alg[0].raw, der::oid(&oid::PBKDF2));
        let kdf_params = children(kdf_alg[1].content);
        let salt = kdf_params[0].content;
        let iter = u32::from_be_bytes(pad4(kdf_params[1].content));
        assert_eq!(
            kdf_params[2].raw,
            der::algorithm(oid::HMAC_WITH_SHA256, Some(&der::null()))
        );
        let enc = children(params[1].content);
        assert_eq!(enc[0].raw, der::oid(&oid::AES256_CBC));
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iter, &mut key);
        cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, enc[1].content)
            .unwrap()
            .decrypt_padded_vec::<Pkcs7>(ct)
            .unwrap()
    }
}

fn pad4(b: &[u8]) -> [u8; 4] {
    let mut out = [0u8; 4];
    out[4 - b.len()..].copy_from_slice(b);
    out
}

fn attrs(bag: &[der::Element<'_>]) -> (Option<String>, Option<Vec<u8>>) {
    let Some(set) = bag.get(2) else {
        return (None, None);
    };
    let (mut name, mut id) = (None, None);
    for a in children(set.content) {
        let parts = children(a.content);
        let value = children(parts[1].content)[0];
        if parts[0].raw == der::oid(&oid::FRIENDLY_NAME) {
            assert_eq!(value.tag, der::BMP_STRING);
            let units: Vec<u16> = value
                .content
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            name = Some(String::from_utf16(&units).unwrap());
        } else if parts[0].raw == der::oid(&oid::LOCAL_KEY_ID) {
            id = Some(value.content.to_vec());
        }
    }
    (name, id)
}

/// Verifies the MAC (panics if wrong), decrypts and lists the bags.
fn open(pfx: &[u8], password: &str) -> Result<Opened, &'static str> {
    let top = children(der::single(pfx, der::SEQUENCE, bad).unwrap().content);
    assert_eq!(top[0].raw, der::uint(3));
    let ci = children(top[1].content);
    assert_eq!(ci[0].raw, der::oid(&oid::DATA));
    let auth_safe = children(ci[1].content)[0].content;

    let mac = children(top[2].content);
    let digest_info = children(mac[0].content);
    let hash = children(digest_info[0].content)[0].raw.to_vec();
    let salt = mac[1].content;
    let iterations = u32::from_be_bytes(pad4(mac[2].content));
    let pw = kdf::bmp_password(password);
    let computed = if hash == der::oid(&oid::SHA1) {
        let key = kdf::derive::<sha1::Sha1>(&pw, salt, Purpose::Mac, iterations, 20);
        let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
        m.update(auth_safe);
        m.finalize().into_bytes().to_vec()
    } else {
        let key = kdf::derive::<sha2::Sha256>(&pw, salt, Purpose::Mac, iterations, 32);
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        m.update(auth_safe);
        m.finalize().into_bytes().to_vec()
    };
    if computed != digest_info[1].content {
        return Err("mac mismatch");
    }

    let mut bags = Vec::new();
    let mut algorithms = Vec::new();
    for ci in children(der::single(auth_safe, der::SEQUENCE, bad).unwrap().content) {
        let ci = children(ci.content);
        let inner = children(ci[1].content)[0];
        let safe_contents = if ci[0].raw == der::oid(&oid::ENCRYPTED_DATA) {
            let ed = children(inner.content);
            let eci = children(ed[1].content);
            assert_eq!(eci[2].tag, der::context_primitive(0));
            algorithms.push(children(eci[1].content)[0].raw.to_vec());
            decrypt(eci[1].raw, password, eci[2].content)
        } else {
            assert_eq!(ci[0].raw, der::oid(&oid::DATA));
            inner.content.to_vec()
        };
        for bag in children(
            der::single(&safe_contents, der::SEQUENCE, bad)
                .unwrap()
                .content,
        ) {
            let parts = children(bag.content);
            let value = children(parts[1].content)[0];
            let (friendly_name, local_key_id) = attrs(&parts);
            let value = if parts[0].raw == der::oid(&oid::CERT_BAG) {
                let cb = children(value.content);
                assert_eq!(cb[0].raw, der::oid(&oid::X509_CERTIFICATE));
                children(cb[1].content)[0].content.to_vec()
            } else {
                let epki = children(value.content);
                algorithms.push(children(epki[0].content)[0].raw.to_vec());
                decrypt(epki[0].raw, password, epki[1].content)
            };
            bags.push(Bag {
                id: parts[0].raw.to_vec(),
                value,
                friendly_name,
                local_key_id,
            });
        }
    }
    Ok(Opened {
        bags,
        algorithms,
        mac_hash: hash,
        mac_iterations: mac[2].content.to_vec(),
    })
}

fn ca_cert(n: u8) -> Vec<u8> {
    fake_cert(&der::sequence(&[
        &der::algorithm(der::arcs(&format!("1.2.3.{n}")), None),
        &der::bit_string(&[n]),
    ]))
}

fn request<'a>(
    pkcs8: &'a [u8],
    leaf: &'a [u8],
    chain: &'a [&'a [u8]],
    profile: Profile,
) -> PfxRequest<'a> {
    PfxRequest {
        pkcs8,
        certificate: leaf,
        chain,
        password: "Secret123",
        friendly_name: "SingleWindow-01-B00051",
        profile,
    }
}

#[test]
fn both_profiles_round_trip_with_key_certificate_and_chain() {
    let key = rsa2048();
    let leaf = fake_cert(&key.spki);
    let (ca1, ca2) = (ca_cert(1), ca_cert(2));
    let chain: [&[u8]; 2] = [&ca1, &ca2];
    for (profile, enc, mac_hash, iterations) in [
        (Profile::Compatible, oid::PBE_SHA1_3DES, oid::SHA1, 2048u64),
        (Profile::Modern, oid::PBES2, oid::SHA256, 10_000),
    ] {
        let pfx = build_pfx(&request(&key.pkcs8, &leaf, &chain, profile)).unwrap();
        let o = open(&pfx, "Secret123").unwrap();
        assert_eq!(
            o.algorithms,
            vec![der::oid(&enc), der::oid(&enc)],
            "{profile:?}"
        );
        assert_eq!(o.mac_hash, der::oid(&mac_hash));
        assert_eq!(der::uint(iterations)[2..], o.mac_iterations[..]);
        let key_id = sha1::Sha1::digest(&leaf).to_vec();
        let name = Some("SingleWindow-01-B00051".to_owned());
        assert_eq!(
            o.bags,
            vec![
                Bag {
                    id: der::oid(&oid::CERT_BAG),
                    value: leaf.clone(),
                    friendly_name: name.clone(),
                    local_key_id: Some(key_id.clone()),
                },
                Bag {
                    id: der::oid(&oid::CERT_BAG),
                    value: ca1.clone(),
                    friendly_name: None,
                    local_key_id: None,
                },
                Bag {
                    id: der::oid(&oid::CERT_BAG),
                    value: ca2.clone(),
                    friendly_name: None,
                    local_key_id: None,
                },
                Bag {
                    id: der::oid(&oid::PKCS8_SHROUDED_KEY_BAG),
                    value: key.pkcs8.to_vec(),
                    friendly_name: name,
                    local_key_id: Some(key_id),
                },
            ]
        );
        assert_eq!(open(&pfx, "Secret124").err(), Some("mac mismatch"));
    }
}

#[test]
fn p256_keys_pack_too() {
    let key = p256();
    let leaf = fake_cert(&key.spki);
    let pfx = build_pfx(&request(&key.pkcs8, &leaf, &[], Profile::Modern)).unwrap();
    let o = open(&pfx, "Secret123").unwrap();
    assert_eq!(o.bags.len(), 2);
    assert_eq!(o.bags[1].value, key.pkcs8.to_vec());
}

#[test]
fn pem_inputs_bundles_and_duplicates_are_accepted() {
    let key = rsa2048();
    let leaf = fake_cert(&key.spki);
    let leaf_pem = pem::encode("CERTIFICATE", &leaf);
    let bundle = format!(
        "{}{}",
        pem::encode("CERTIFICATE", &ca_cert(1)),
        pem::encode("CERTIFICATE", &ca_cert(2))
    );
    let ca1 = ca_cert(1);
    // The leaf and CA 1 appear twice: each certificate is packed once.
    let chain: [&[u8]; 3] = [leaf_pem.as_bytes(), bundle.as_bytes(), &ca1];
    let pfx = build_pfx(&request(
        &key.pkcs8,
        leaf_pem.as_bytes(),
        &chain,
        Profile::Compatible,
    ))
    .unwrap();
    let certs: Vec<Vec<u8>> = open(&pfx, "Secret123")
        .unwrap()
        .bags
        .into_iter()
        .filter(|b| b.id == der::oid(&oid::CERT_BAG))
        .map(|b| b.value)
        .collect();
    assert_eq!(certs, vec![leaf, ca_cert(1), ca_cert(2)]);
}

#[test]
fn salts_are_fresh_for_every_file() {
    let key = rsa2048();
    let leaf = fake_cert(&key.spki);
    let a = build_pfx(&request(&key.pkcs8, &leaf, &[], Profile::Modern)).unwrap();
    let b = build_pfx(&request(&key.pkcs8, &leaf, &[], Profile::Modern)).unwrap();
    assert_ne!(a, b);
}

#[test]
fn rejections() {
    let key = rsa2048();
    let leaf = fake_cert(&key.spki);
    let other = fake_cert(&p256().spki);
    let base = request(&key.pkcs8, &leaf, &[], Profile::Compatible);
    let bad_chain: [&[u8]; 1] = [b"not a certificate"];
    let long_name = "x".repeat(65);
    let cases: Vec<(PfxRequest<'_>, &str)> = vec![
        (
            PfxRequest {
                password: "",
                ..base
            },
            "password_required",
        ),
        (
            PfxRequest {
                password: "abc",
                ..base
            },
            "password_format",
        ),
        (
            PfxRequest {
                password: "abc def",
                ..base
            },
            "password_format",
        ),
        (
            PfxRequest {
                password: "a1B2c3D4e5F6g7H8i9J0x",
                ..base
            },
            "password_format",
        ),
        (
            PfxRequest {
                password: "pässwörd",
                ..base
            },
            "password_format",
        ),
        (
            PfxRequest {
                friendly_name: "",
                ..base
            },
            "friendly_name",
        ),
        (
            PfxRequest {
                friendly_name: "a\u{0}b",
                ..base
            },
            "friendly_name",
        ),
        (
            PfxRequest {
                friendly_name: &long_name,
                ..base
            },
            "friendly_name",
        ),
        (
            // Outside the BMP: no BMPString for it.
            PfxRequest {
                friendly_name: "Cert 🔑",
                ..base
            },
            "friendly_name",
        ),
        (
            PfxRequest {
                certificate: b"",
                ..base
            },
            "bad_certificate",
        ),
        (
            PfxRequest {
                chain: &bad_chain,
                ..base
            },
            "bad_certificate",
        ),
        (
            PfxRequest {
                pkcs8: b"junk",
                ..base
            },
            "bad_key",
        ),
        (
            PfxRequest {
                certificate: &other,
                ..base
            },
            "key_mismatch",
        ),
    ];
    for (req, code) in cases {
        assert_eq!(
            build_pfx(&req).err().map(|e| e.code()),
            Some(code),
            "{:?}",
            (req.password, req.friendly_name)
        );
    }
    assert_eq!(
        build_pfx(&PfxRequest {
            certificate: &other,
            ..base
        }),
        Err(KeygenError::KeyMismatch)
    );
}

#[test]
fn profile_names() {
    assert_eq!(Profile::parse(""), Ok(Profile::Compatible));
    assert_eq!(Profile::parse("compatible"), Ok(Profile::Compatible));
    assert_eq!(Profile::parse("modern"), Ok(Profile::Modern));
    assert_eq!(
        Profile::parse("rc2").err().map(|e| e.code()),
        Some("profile")
    );
    assert_eq!(Profile::default(), Profile::Compatible);
}

#[test]
fn friendly_names_may_be_chinese() {
    assert_eq!(check_friendly_name("通關專屬憑證-01"), Ok(()));
    assert_eq!(check_friendly_name("  "), Err(KeygenError::FriendlyName));
}
