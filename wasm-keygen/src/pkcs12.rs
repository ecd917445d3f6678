//! PKCS#12 (`.pfx`) files: the key, its certificate and the CA chain under a password.
//!
//! Written here on RustCrypto primitives instead of with `p12-keystore`, which names the
//! leaf certificate bag after the subject DN rather than the certificate name the portal
//! needs, and which pulls an X.509 parser into the wasm. Layout (what OpenSSL writes):
//!
//! ```text
//! PFX { version 3, authSafe data(AuthenticatedSafe), macData }
//! AuthenticatedSafe = [ encryptedData(SafeContents[certBag leaf, certBag chain...]),
//!                       data(SafeContents[pkcs8ShroudedKeyBag]) ]
//! ```
//! Key bag and leaf certificate bag carry the same `localKeyId` (SHA-1 of the leaf DER) and
//! `friendlyName` (BMPString, the certificate name).

mod kdf;
mod pbe;

use sha1::Digest;

use crate::cert::Certificate;
use crate::der;
use crate::error::KeygenError;
use crate::keygen::PrivateKey;
use crate::oid;

pub use pbe::{COMPATIBLE_ITERATIONS, MODERN_ITERATIONS};

/// Longest certificate name accepted as friendlyName (same bound as a CN).
const MAX_FRIENDLY_NAME_CHARS: usize = 64;

/// Which algorithms protect the file; see [`pbe`] for what reads which.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    #[default]
    Compatible,
    Modern,
}

impl Profile {
    /// `compatible` or `modern`; an empty string means the default.
    pub fn parse(name: &str) -> Result<Self, KeygenError> {
        match name {
            "" | "compatible" => Ok(Profile::Compatible),
            "modern" => Ok(Profile::Modern),
            other => Err(KeygenError::Profile(other.to_owned())),
        }
    }
}

/// What goes into the file.
#[derive(Debug, Clone, Copy)]
pub struct PfxRequest<'a> {
    /// PKCS#8 `PrivateKeyInfo`, DER.
    pub pkcs8: &'a [u8],
    /// The issued certificate, PEM or DER.
    pub certificate: &'a [u8],
    /// CA certificates, issuing CA first; each entry PEM (one or more blocks) or DER.
    pub chain: &'a [&'a [u8]],
    pub password: &'a str,
    /// The certificate name, e.g. `SingleWindow-01-B00051`.
    pub friendly_name: &'a str,
    pub profile: Profile,
}

/// Checks everything, then packs the PFX. Refuses a certificate that is not for this key.
pub fn build_pfx(req: &PfxRequest<'_>) -> Result<Vec<u8>, KeygenError> {
    proto::validate::pfx_password(req.password).map_err(KeygenError::password)?;
    check_friendly_name(req.friendly_name)?;
    let leaf = Certificate::parse(req.certificate)?;
    let mut chain = Vec::new();
    for entry in req.chain {
        for c in Certificate::parse_all(entry)? {
            if c != leaf && !chain.contains(&c) {
                chain.push(c);
            }
        }
    }
    let key = PrivateKey::from_pkcs8(req.pkcs8)?;
    if !key.matches_spki(leaf.spki()) {
        return Err(KeygenError::KeyMismatch);
    }

    let local_key_id = sha1::Sha1::digest(leaf.der());
    let attributes = der::set_of(vec![
        attribute(oid::FRIENDLY_NAME, &der::bmp_string(req.friendly_name)),
        attribute(oid::LOCAL_KEY_ID, &der::octet_string(&local_key_id)),
    ]);

    let mut cert_bags = vec![safe_bag(oid::CERT_BAG, &cert_bag(&leaf), Some(&attributes))];
    cert_bags.extend(
        chain
            .iter()
            .map(|c| safe_bag(oid::CERT_BAG, &cert_bag(c), None)),
    );
    let certs = pbe::encrypt(
        req.profile,
        req.password,
        &cert_bags.concat().wrap_sequence(),
    )?;
    let encrypted_data = der::sequence(&[
        &der::uint(0),
        &der::sequence(&[
            &der::oid(oid::DATA),
            &certs.algorithm,
            &der::tlv(der::context_primitive(0), &certs.ciphertext),
        ]),
    ]);

    // Re-encoded by us, so a WebCrypto export and a Rust key end up in the same form.
    let pkcs8 = key.to_pkcs8()?;
    let shrouded = pbe::encrypt(req.profile, req.password, &pkcs8)?;
    let key_bag = safe_bag(
        oid::PKCS8_SHROUDED_KEY_BAG,
        &der::sequence(&[
            &shrouded.algorithm,
            &der::octet_string(&shrouded.ciphertext),
        ]),
        Some(&attributes),
    );

    let auth_safe = der::sequence(&[
        &content_info(oid::ENCRYPTED_DATA, &encrypted_data),
        &content_info(oid::DATA, &der::octet_string(&key_bag.wrap_sequence())),
    ]);
    let mac = pbe::mac_data(req.profile, req.password, &auth_safe)?;
    Ok(der::sequence(&[
        &der::uint(3),
        &content_info(oid::DATA, &der::octet_string(&auth_safe)),
        &mac,
    ]))
}

/// The certificate name is shown by every tool that opens the file; keep it printable.
pub fn check_friendly_name(name: &str) -> Result<(), KeygenError> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= MAX_FRIENDLY_NAME_CHARS
        && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(KeygenError::FriendlyName)
    }
}

trait WrapSequence {
    fn wrap_sequence(&self) -> Vec<u8>;
}

impl WrapSequence for [u8] {
    fn wrap_sequence(&self) -> Vec<u8> {
        der::tlv(der::SEQUENCE, self)
    }
}

/// `ContentInfo { contentType, [0] EXPLICIT content }`.
fn content_info(content_type: oid::Oid, content: &[u8]) -> Vec<u8> {
    der::sequence(&[&der::oid(content_type), &der::tlv(der::context(0), content)])
}

/// `SafeBag { bagId, [0] EXPLICIT bagValue, bagAttributes SET OF Attribute OPTIONAL }`.
fn safe_bag(bag_id: oid::Oid, value: &[u8], attributes: Option<&[u8]>) -> Vec<u8> {
    let id = der::oid(bag_id);
    let value = der::tlv(der::context(0), value);
    match attributes {
        Some(a) => der::sequence(&[&id, &value, a]),
        None => der::sequence(&[&id, &value]),
    }
}

/// `CertBag { x509Certificate, [0] EXPLICIT OCTET STRING (DER) }`.
fn cert_bag(cert: &Certificate) -> Vec<u8> {
    der::sequence(&[
        &der::oid(oid::X509_CERTIFICATE),
        &der::tlv(der::context(0), &der::octet_string(cert.der())),
    ])
}

/// `Attribute { attrType, SET { value } }`.
fn attribute(attr: oid::Oid, value: &[u8]) -> Vec<u8> {
    der::sequence(&[&der::oid(attr), &der::tlv(der::SET, value)])
}

#[cfg(test)]
mod tests;
