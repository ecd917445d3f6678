//! PKCS#12 (`.pfx`) files: the key, its certificate and the CA chain under a password.
//!
//! Assembled here from the `pkcs12` crate's types (`Pfx`, `SafeBag`, `CertBag`, `MacData`,
//! its KDF) and the `cms` ones it builds on: RustCrypto's `pkcs12` has types and the KDF but
//! no builder, and `p12-keystore` names the leaf certificate bag after the subject DN rather
//! than the certificate name the portal needs, and pulls an X.509 parser into the wasm.
//! Layout (what OpenSSL writes):
//!
//! ```text
//! PFX { version 3, authSafe data(AuthenticatedSafe), macData }
//! AuthenticatedSafe = [ encryptedData(SafeContents[certBag leaf, certBag chain...]),
//!                       data(SafeContents[pkcs8ShroudedKeyBag]) ]
//! ```
//! Key bag and leaf certificate bag carry the same `localKeyId` (SHA-1 of the leaf DER) and
//! `friendlyName` (BMPString, the certificate name).

#[cfg(test)]
mod kdf;
mod pbe;

use der::Tag;
use der::asn1::{Any, BmpString, SetOfVec};
use pkcs12::cms::content_info::{CmsVersion, ContentInfo};
use pkcs12::cms::encrypted_data::EncryptedData;
use pkcs12::cms::enveloped_data::EncryptedContentInfo;
use pkcs12::pbe_params::EncryptedPrivateKeyInfo;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::{CertBag, SafeBag};
use sha1::Digest;
use x509_cert::attr::{Attribute, Attributes};

use crate::cert::Certificate;
use crate::encoding::to_der;
use crate::error::KeygenError;
use crate::keygen::PrivateKey;
use crate::oid::{self, Oid};
use pbe::{any, octets};

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

/// Where salts and IVs come from: the system's generator, or fixed bytes in tests (so that
/// the same inputs give the same file).
pub(crate) type Fill<'a> = dyn FnMut(&mut [u8]) -> Result<(), KeygenError> + 'a;

fn system_random(buf: &mut [u8]) -> Result<(), KeygenError> {
    getrandom::fill(buf).map_err(|_| KeygenError::Random)
}

/// Checks everything, then packs the PFX. Refuses a certificate that is not for this key.
pub fn build_pfx(req: &PfxRequest<'_>) -> Result<Vec<u8>, KeygenError> {
    build_pfx_with(req, &mut system_random)
}

/// [`build_pfx`] with salts and IVs from `fill`.
pub(crate) fn build_pfx_with(
    req: &PfxRequest<'_>,
    fill: &mut Fill<'_>,
) -> Result<Vec<u8>, KeygenError> {
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
    let friendly_name =
        BmpString::from_utf8(req.friendly_name).map_err(|_| KeygenError::FriendlyName)?;
    let attributes = set_of(
        attribute(oid::FRIENDLY_NAME, any(&friendly_name)?)?,
        attribute(oid::LOCAL_KEY_ID, any(&octets(&local_key_id)?)?)?,
    )?;

    let mut cert_bags = vec![cert_bag(&leaf, Some(attributes.clone()))?];
    for c in &chain {
        cert_bags.push(cert_bag(c, None)?);
    }
    let certs = pbe::encrypt(req.profile, req.password, &to_der(&cert_bags)?, fill)?;
    let encrypted_data = EncryptedData {
        version: CmsVersion::V0,
        enc_content_info: EncryptedContentInfo {
            content_type: oid::DATA,
            content_enc_alg: certs.algorithm,
            encrypted_content: Some(octets(&certs.ciphertext)?),
        },
        unprotected_attrs: None,
    };

    // Re-encoded by us, so a WebCrypto export and a Rust key end up in the same form.
    let pkcs8 = key.to_pkcs8()?;
    let shrouded = pbe::encrypt(req.profile, req.password, &pkcs8, fill)?;
    let key_bag = SafeBag {
        bag_id: oid::PKCS8_SHROUDED_KEY_BAG,
        bag_value: to_der(&EncryptedPrivateKeyInfo {
            encryption_algorithm: shrouded.algorithm,
            encrypted_data: octets(&shrouded.ciphertext)?,
        })?,
        bag_attributes: Some(attributes),
    };

    let auth_safe = to_der(&vec![
        content_info(oid::ENCRYPTED_DATA, any(&encrypted_data)?),
        content_info(oid::DATA, data(&to_der(&vec![key_bag])?)?),
    ])?;
    let mac_data = pbe::mac_data(req.profile, req.password, &auth_safe, fill)?;
    to_der(&Pfx {
        version: Version::V3,
        auth_safe: content_info(oid::DATA, data(&auth_safe)?),
        mac_data: Some(mac_data),
    })
}

fn encoding(_: der::Error) -> KeygenError {
    KeygenError::Crypto("DER encoding".into())
}

/// The certificate name is shown by every tool that opens the file; keep it printable. It is
/// a BMPString (UCS-2), so characters outside the Basic Multilingual Plane (emoji, rare CJK
/// extension characters) cannot be written. The hand-written encoder before the `der` crate
/// wrote them as UTF-16 surrogate pairs, which is not a valid BMPString; they are refused now.
pub fn check_friendly_name(name: &str) -> Result<(), KeygenError> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= MAX_FRIENDLY_NAME_CHARS
        && !name
            .chars()
            .any(|c| c.is_control() || u32::from(c) > 0xFFFF);
    if ok {
        Ok(())
    } else {
        Err(KeygenError::FriendlyName)
    }
}

/// `data` content: an OCTET STRING holding `der`.
fn data(der: &[u8]) -> Result<Any, KeygenError> {
    Any::new(Tag::OctetString, der).map_err(encoding)
}

/// `ContentInfo { contentType, [0] EXPLICIT content }`.
fn content_info(content_type: Oid, content: Any) -> ContentInfo {
    ContentInfo {
        content_type,
        content,
    }
}

/// A `certBag` holding `CertBag { x509Certificate, [0] EXPLICIT OCTET STRING (DER) }`.
fn cert_bag(cert: &Certificate, attributes: Option<Attributes>) -> Result<SafeBag, KeygenError> {
    Ok(SafeBag {
        bag_id: oid::CERT_BAG,
        bag_value: to_der(&CertBag {
            cert_id: oid::X509_CERTIFICATE,
            cert_value: octets(cert.der())?,
        })?,
        bag_attributes: attributes,
    })
}

/// `Attribute { attrType, SET { value } }`.
fn attribute(attr: Oid, value: Any) -> Result<Attribute, KeygenError> {
    let mut values = SetOfVec::new();
    values.insert_ordered(value).map_err(encoding)?;
    Ok(Attribute { oid: attr, values })
}

/// The DER `SET OF` of two elements: in the order of their encodings. `SetOfVec::try_from`
/// would do the same with a generic library sort, which costs more wasm than this.
fn set_of(a: Attribute, b: Attribute) -> Result<SetOfVec<Attribute>, KeygenError> {
    use der::DerOrd;
    let (first, second) = match a.der_cmp(&b).map_err(encoding)? {
        std::cmp::Ordering::Greater => (b, a),
        _ => (a, b),
    };
    let mut set = SetOfVec::new();
    set.insert_ordered(first).map_err(encoding)?;
    set.insert_ordered(second).map_err(encoding)?;
    Ok(set)
}

#[cfg(test)]
mod tests;
