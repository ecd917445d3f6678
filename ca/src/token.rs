//! CA keys inside a PKCS#11 token (an HSM; SoftHSM2 in the tests), through `cryptoki`. The
//! private key is made in the token as sensitive and not extractable and never leaves it:
//! certificates, CRLs and CSRs are signed by the token (CKM_SHA256_RSA_PKCS; for P-256,
//! CKM_ECDSA over a SHA-256 digest computed here, the mechanism every token has).
//!
//! The key is named by an RFC 7512 URI (`pkcs11:token=…;object=…`). Parsing it is the few
//! lines below: no maintained crate parses PKCS#11 URIs for cryptoki, and the subset a CA
//! key needs (token label, serial, manufacturer, model, object label, id, type) is small.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::Encode as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::CaError;
use crate::key::KeyAlgorithm;
use crate::oid;
use crate::spki::PublicKey;

/// The Debian SoftHSM2 module, the default when the configuration names none.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A parsed `pkcs11:` URI: which token, which key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    pub token: Option<String>,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    /// The key's CKA_LABEL.
    pub object: Option<String>,
    /// The key's CKA_ID.
    pub id: Option<Vec<u8>>,
}

impl Pkcs11Uri {
    pub fn is_pkcs11(text: &str) -> bool {
        text.trim_start().starts_with("pkcs11:")
    }
}

fn pct_decode(value: &str) -> Result<Vec<u8>, CaError> {
    let bad = || CaError::Load(format!("pkcs11 URI: bad percent-encoding in {value:?}"));
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

impl FromStr for Pkcs11Uri {
    type Err = CaError;

    fn from_str(text: &str) -> Result<Self, CaError> {
        let rest = text
            .trim()
            .strip_prefix("pkcs11:")
            .ok_or_else(|| CaError::Load("a PKCS#11 key URI starts with pkcs11:".into()))?;
        // Query attributes (pin-source, module-path) are configured separately.
        let path = rest.split('?').next().unwrap_or("");
        let mut uri = Pkcs11Uri::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| CaError::Load(format!("pkcs11 URI: {attr:?} has no value")))?;
            let raw = pct_decode(value)?;
            let text = || {
                String::from_utf8(raw.clone())
                    .map_err(|_| CaError::Load(format!("pkcs11 URI: {name} is not UTF-8")))
            };
            let slot = match name {
                "token" => &mut uri.token,
                "serial" => &mut uri.serial,
                "manufacturer" => &mut uri.manufacturer,
                "model" => &mut uri.model,
                "object" => &mut uri.object,
                "id" => {
                    uri.id = Some(raw);
                    continue;
                }
                "type" if raw == b"private" => continue,
                "type" => {
                    return Err(CaError::Load(
                        "pkcs11 URI: the CA key is a type=private object".into(),
                    ));
                }
                other => {
                    return Err(CaError::Load(format!(
                        "pkcs11 URI: attribute {other:?} is not supported (token, serial, \
                         manufacturer, model, object, id, type)"
                    )));
                }
            };
            if slot.is_some() {
                return Err(CaError::Load(format!("pkcs11 URI: {name} given twice")));
            }
            *slot = Some(text()?);
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(CaError::Load(
                "pkcs11 URI must name the key with object= or id=".into(),
            ));
        }
        Ok(uri)
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The token and object, for log lines (no PIN is ever part of it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pkcs11:token={};object={}",
            self.token.as_deref().unwrap_or("*"),
            self.object.as_deref().unwrap_or("*")
        )
    }
}

/// Where a token key is and how to log in.
pub struct TokenSpec {
    pub uri: Pkcs11Uri,
    /// The PKCS#11 module (`.so`); [`DEFAULT_MODULE`] unless configured.
    pub module: PathBuf,
    /// The user PIN (read from a file by the caller).
    pub pin: Zeroizing<String>,
}

impl fmt::Debug for TokenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSpec")
            .field("uri", &self.uri.to_string())
            .field("module", &self.module)
            .field("pin", &"<redacted>")
            .finish()
    }
}

fn ck(what: &'static str) -> impl Fn(CkError) -> CaError {
    move |e| CaError::Token(format!("{what}: {e}"))
}

/// One initialised module per path for the whole process: C_Initialize may run once, and
/// dropping a `Pkcs11` finalises the library under every other user of it.
fn module(path: &Path) -> Result<Pkcs11, CaError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES
        .get_or_init(Default::default)
        .lock()
        .map_err(|_| CaError::Token("module table poisoned".into()))?;
    if let Some(m) = modules.get(path) {
        return Ok(m.clone());
    }
    let m = Pkcs11::new(path)
        .map_err(|e| CaError::Token(format!("loading the module {}: {e}", path.display())))?;
    match m.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(CaError::Token(format!("C_Initialize: {e}"))),
    }
    modules.insert(path.to_path_buf(), m.clone());
    Ok(m)
}

fn find_slot(pkcs11: &Pkcs11, uri: &Pkcs11Uri) -> Result<Slot, CaError> {
    let mut found = Vec::new();
    for slot in pkcs11.get_slots_with_token().map_err(ck("listing slots"))? {
        let info = pkcs11.get_token_info(slot).map_err(ck("token info"))?;
        let matches = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w == have.trim_end())
        };
        if matches(&uri.token, info.label())
            && matches(&uri.serial, info.serial_number())
            && matches(&uri.manufacturer, info.manufacturer_id())
            && matches(&uri.model, info.model())
        {
            found.push(slot);
        }
    }
    match found.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(CaError::Token(format!("no token matches {uri}"))),
        _ => Err(CaError::Token(format!(
            "{} tokens match {uri}; add serial= to the URI",
            found.len()
        ))),
    }
}

fn login(session: &Session, pin: &str) -> Result<(), CaError> {
    match session.login(UserType::User, Some(&AuthPin::new(pin.into()))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
            Err(CaError::Token("the token refused the PIN".into()))
        }
        Err(e) => Err(CaError::Token(format!("login: {e}"))),
    }
}

/// The template naming the key object(s) of `uri` of class `class`.
fn template(uri: &Pkcs11Uri, class: ObjectClass) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

/// A signing key held in a token, with a logged-in session of its own.
pub(crate) struct TokenKey {
    /// PKCS#11 sessions may not be used by two threads at once.
    session: Mutex<Session>,
    key: ObjectHandle,
    ec: bool,
    public: PublicKey,
    pin: Zeroizing<String>,
}

impl TokenKey {
    fn session(spec: &TokenSpec) -> Result<Session, CaError> {
        let pkcs11 = module(&spec.module)?;
        let slot = find_slot(&pkcs11, &spec.uri)?;
        let session = pkcs11
            .open_rw_session(slot)
            .map_err(ck("opening a session"))?;
        login(&session, &spec.pin)?;
        Ok(session)
    }

    /// The private key the URI names, if the token has it (more than one is an error).
    fn find(session: &Session, uri: &Pkcs11Uri) -> Result<Option<ObjectHandle>, CaError> {
        let keys = session
            .find_objects(&template(uri, ObjectClass::PRIVATE_KEY))
            .map_err(ck("finding the key"))?;
        match keys.as_slice() {
            [key] => Ok(Some(*key)),
            [] => Ok(None),
            _ => Err(CaError::Token(format!(
                "{} private keys match {uri}; add id= to the URI",
                keys.len()
            ))),
        }
    }

    fn with_key(
        spec: &TokenSpec,
        session: Session,
        key: ObjectHandle,
    ) -> Result<TokenKey, CaError> {
        let (ec, public) = read_public(&session, &spec.uri, key)?;
        Ok(TokenKey {
            session: Mutex::new(session),
            key,
            ec,
            public,
            pin: spec.pin.clone(),
        })
    }

    pub(crate) fn open(spec: &TokenSpec) -> Result<TokenKey, CaError> {
        let session = Self::session(spec)?;
        match Self::find(&session, &spec.uri)? {
            Some(key) => Self::with_key(spec, session, key),
            None => Err(CaError::Token(format!(
                "no private key matches {} (create it with `portal ca issuing-csr`)",
                spec.uri
            ))),
        }
    }

    /// The key the URI names, made first when the token does not have it; and whether it
    /// was made now.
    pub(crate) fn open_or_create(
        spec: &TokenSpec,
        algorithm: KeyAlgorithm,
    ) -> Result<(TokenKey, bool), CaError> {
        let session = Self::session(spec)?;
        match Self::find(&session, &spec.uri)? {
            Some(key) => Ok((Self::with_key(spec, session, key)?, false)),
            None => {
                drop(session);
                Ok((Self::create(spec, algorithm)?, true))
            }
        }
    }

    pub(crate) fn create(spec: &TokenSpec, algorithm: KeyAlgorithm) -> Result<TokenKey, CaError> {
        let Some(label) = spec.uri.object.clone() else {
            return Err(CaError::Token(
                "to create a key the pkcs11 URI needs object=<label>".into(),
            ));
        };
        let session = Self::session(spec)?;
        for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
            let existing = session
                .find_objects(&template(&spec.uri, class))
                .map_err(ck("looking for an existing key"))?;
            if !existing.is_empty() {
                return Err(CaError::Token(format!(
                    "the token already has a key {}; the portal does not overwrite keys",
                    spec.uri
                )));
            }
        }
        let id = match &spec.uri.id {
            Some(id) => id.clone(),
            None => {
                let mut id = vec![0u8; 16];
                getrandom::fill(&mut id)
                    .map_err(|e| CaError::Token(format!("OS random generator failed: {e}")))?;
                id
            }
        };
        let label = label.into_bytes();
        let mut public_template = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Label(label.clone()),
            Attribute::Id(id.clone()),
        ];
        let private_template = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label),
            Attribute::Id(id),
        ];
        let mechanism = match algorithm {
            KeyAlgorithm::Rsa(bits) => {
                public_template.push(Attribute::ModulusBits(u64::from(bits).into()));
                public_template.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                Mechanism::RsaPkcsKeyPairGen
            }
            KeyAlgorithm::EcP256 => {
                let params = oid::PRIME256V1
                    .to_der()
                    .map_err(|e| CaError::Token(format!("EC parameters: {e}")))?;
                public_template.push(Attribute::EcParams(params));
                Mechanism::EccKeyPairGen
            }
        };
        let (_, key) = session
            .generate_key_pair(&mechanism, &public_template, &private_template)
            .map_err(ck("generating the key pair"))?;
        Self::with_key(spec, session, key)
    }

    pub(crate) fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CaError> {
        let session = self
            .session
            .lock()
            .map_err(|_| CaError::Token("session lock poisoned".into()))?;
        let once = |session: &Session| {
            if self.ec {
                let digest = Sha256::digest(message);
                session.sign(&Mechanism::Ecdsa, self.key, &digest)
            } else {
                session.sign(&Mechanism::Sha256RsaPkcs, self.key, message)
            }
        };
        let sig = match once(&session) {
            // The token forgot the login (it was reset or the session timed out): log in
            // again and retry once.
            Err(CkError::Pkcs11(RvError::UserNotLoggedIn, _)) => {
                login(&session, &self.pin)?;
                once(&session)
            }
            other => other,
        }
        .map_err(ck("signing"))?;
        if !self.ec {
            return Ok(sig);
        }
        // PKCS#11 gives r || s; X.509 wants the DER ECDSA-Sig-Value.
        p256::ecdsa::Signature::from_slice(&sig)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|_| CaError::Token("the token's ECDSA signature is malformed".into()))
    }
}

/// The key's public half: from the public key object with the same label/id, or (RSA) from
/// the private key's own modulus and exponent.
fn read_public(
    session: &Session,
    uri: &Pkcs11Uri,
    private: ObjectHandle,
) -> Result<(bool, PublicKey), CaError> {
    let kind = session
        .get_attributes(private, &[AttributeType::KeyType])
        .map_err(ck("reading the key type"))?;
    let ec = match kind.first() {
        Some(Attribute::KeyType(t)) if *t == KeyType::RSA => false,
        Some(Attribute::KeyType(t)) if *t == KeyType::EC => true,
        _ => {
            return Err(CaError::Token("the token key is neither RSA nor EC".into()));
        }
    };
    let publics = session
        .find_objects(&template(uri, ObjectClass::PUBLIC_KEY))
        .map_err(ck("finding the public key"))?;
    let source = match (publics.as_slice(), ec) {
        ([public], _) => *public,
        ([], false) => private,
        _ => {
            return Err(CaError::Token(format!(
                "the token needs exactly one public key object for {uri}"
            )));
        }
    };
    let public = if ec {
        let attrs = session
            .get_attributes(source, &[AttributeType::EcPoint])
            .map_err(ck("reading the EC point"))?;
        let Some(Attribute::EcPoint(point)) = attrs.first() else {
            return Err(CaError::Token("the EC key has no CKA_EC_POINT".into()));
        };
        // CKA_EC_POINT is the DER OCTET STRING around the SEC1 point.
        let point = <der::asn1::OctetString as der::Decode>::from_der(point)
            .map(|o| o.as_bytes().to_vec())
            .unwrap_or_else(|_| point.clone());
        if p256::PublicKey::from_sec1_bytes(&point).is_err() || point.len() != 65 {
            return Err(CaError::Token(
                "the token's EC key is not an uncompressed P-256 point".into(),
            ));
        }
        PublicKey::ec_p256(point)
    } else {
        let attrs = session
            .get_attributes(
                source,
                &[AttributeType::Modulus, AttributeType::PublicExponent],
            )
            .map_err(ck("reading the RSA public key"))?;
        let (mut n, mut e) = (None, None);
        for a in attrs {
            match a {
                Attribute::Modulus(v) => n = Some(v),
                Attribute::PublicExponent(v) => e = Some(v),
                _ => {}
            }
        }
        let (Some(n), Some(e)) = (n, e) else {
            return Err(CaError::Token("the RSA key has no modulus".into()));
        };
        PublicKey::rsa(&n, &e).map_err(CaError::Token)?
    };
    Ok((ec, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_token_and_key() {
        let u: Pkcs11Uri = "pkcs11:token=Portal%20CA;object=issuing-2026;type=private"
            .parse()
            .unwrap();
        assert_eq!(u.token.as_deref(), Some("Portal CA"));
        assert_eq!(u.object.as_deref(), Some("issuing-2026"));
        assert_eq!(u.id, None);
        let u: Pkcs11Uri = "pkcs11:serial=abc;id=%01%02?pin-source=file:/x"
            .parse()
            .unwrap();
        assert_eq!(u.id, Some(vec![1, 2]));
        assert_eq!(u.serial.as_deref(), Some("abc"));
        for bad in [
            "pkcs11:token=x",
            "pkcs11:object=a;type=cert",
            "pkcs11:object=a;slot-id=1",
            "pkcs11:object=%zz",
            "pkcs11:object=a;object=b",
            "file:/x",
        ] {
            assert!(bad.parse::<Pkcs11Uri>().is_err(), "{bad} accepted");
        }
        assert!(Pkcs11Uri::is_pkcs11(" pkcs11:object=a"));
        assert!(!Pkcs11Uri::is_pkcs11("/etc/portal/ca.key"));
    }

    #[test]
    fn the_pin_is_not_shown() {
        let spec = TokenSpec {
            uri: "pkcs11:token=t;object=o".parse().unwrap(),
            module: DEFAULT_MODULE.into(),
            pin: Zeroizing::new("123456".into()),
        };
        assert!(!format!("{spec:?}").contains("123456"));
    }
}
