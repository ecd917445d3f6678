//! The `tbsPackage` a page sends for `MakeSignature` (as JSON, through the popup or as the
//! `tbsPackage` form field of `POST /sign`), checked and decoded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::codes::{self, HipkiError};
use crate::pin::Pin;
use crate::pkcs1::HashAlg;

/// What pages send. Unknown fields (`withSCAP`, `keyidb64`, …) are ignored.
#[derive(Debug, Deserialize)]
struct RawPackage {
    func: Option<String>,
    tbs: Option<String>,
    #[serde(rename = "tbsEncoding")]
    tbs_encoding: Option<String>,
    #[serde(rename = "hashAlgorithm")]
    hash_algorithm: Option<String>,
    pin: Option<Pin>,
    nonce: Option<String>,
    #[serde(rename = "withCardSN")]
    with_card_sn: Option<serde_json::Value>,
    #[serde(rename = "signatureType")]
    signature_type: Option<String>,
    #[serde(rename = "slotDescription")]
    slot_description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureType {
    /// Bare PKCS#1 v1.5 signature (what the portal's login uses).
    Pkcs1,
    /// CMS SignedData with the content attached.
    Pkcs7,
}

/// A checked `MakeSignature` request.
#[derive(Debug)]
pub struct SignPackage {
    /// The bytes to sign (after HiPKI's decoding, see [`parse`]).
    pub tbs: Vec<u8>,
    pub hash: HashAlg,
    pub pin: Pin,
    pub signature_type: SignatureType,
    pub nonce: Option<String>,
    pub with_card_sn: bool,
    pub slot: Option<String>,
}

/// Parses a `tbsPackage` JSON text.
///
/// HiPKI decodes `tbs` and `pin` once more after reading the JSON: its sample pages send
/// `encodeURIComponent(tbs)` and replace `+` by `%2B` in the whole package, which only
/// makes sense if the component percent-decodes those fields with form rules (`+` means
/// space). We do the same so those pages keep working; our own portal sends a challenge
/// made of `[A-Za-z0-9._:-]`, which decoding leaves unchanged.
pub fn parse(json: &str) -> Result<SignPackage, HipkiError> {
    let raw: RawPackage = serde_json::from_str(json)
        .map_err(|e| HipkiError::new(codes::BAD_JSON, format!("tbsPackage is not JSON: {e}")))?;
    match raw.func.as_deref() {
        Some("MakeSignature") | None => {}
        Some(other) => {
            return Err(HipkiError::new(
                codes::UNSUPPORTED_FUNCTION,
                format!("unsupported func {other:?}"),
            ));
        }
    }
    let signature_type = match raw
        .signature_type
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("PKCS1") => SignatureType::Pkcs1,
        Some("PKCS7") | Some("") | None => SignatureType::Pkcs7,
        Some(other) => {
            return Err(HipkiError::new(
                codes::SIGNATURE_TYPE,
                format!("signatureType {other:?} is not supported (PKCS1, PKCS7)"),
            ));
        }
    };
    let hash = match raw.hash_algorithm.as_deref() {
        None | Some("") => HashAlg::Sha256,
        Some(name) => HashAlg::from_hipki(name).ok_or_else(|| {
            HipkiError::new(
                codes::BAD_PARAMETER,
                format!("hashAlgorithm {name:?} is not supported (SHA256, SHA384, SHA512)"),
            )
        })?,
    };
    let tbs_text = raw
        .tbs
        .filter(|t| !t.is_empty())
        .ok_or_else(|| HipkiError::new(codes::NO_TBS, "tbs is missing"))?;
    let tbs = match raw
        .tbs_encoding
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("") | Some("NONE") => form_decode(&tbs_text, true).as_bytes().to_vec(),
        Some("BASE64") => {
            let text = form_decode(&tbs_text, false);
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            STANDARD.decode(compact).map_err(|e| {
                HipkiError::new(codes::BASE64_DECODE, format!("tbs is not base64: {e}"))
            })?
        }
        Some(other) => {
            return Err(HipkiError::new(
                codes::BAD_PARAMETER,
                format!("tbsEncoding {other:?} is not supported (NONE, base64)"),
            ));
        }
    };
    if tbs.is_empty() {
        return Err(HipkiError::new(codes::NO_TBS, "tbs is empty"));
    }
    let pin = raw
        .pin
        .filter(|p| !p.is_empty())
        .ok_or_else(|| HipkiError::new(codes::NO_PIN, "pin is missing"))?
        .map(|p| form_decode(p, true).to_string());
    let with_card_sn = match raw.with_card_sn {
        Some(serde_json::Value::Bool(b)) => b,
        Some(serde_json::Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    Ok(SignPackage {
        tbs,
        hash,
        pin,
        signature_type,
        nonce: raw.nonce.filter(|n| !n.is_empty()),
        with_card_sn,
        slot: raw.slot_description.filter(|s| !s.is_empty()),
    })
}

/// `application/x-www-form-urlencoded` value decoding: `%XX` escapes, and `+` as space if
/// `plus_is_space`. Malformed escapes are kept as they are (lenient, like most servers).
/// Intermediate copies are wiped: this also decodes the PIN.
fn form_decode(s: &str, plus_is_space: bool) -> Zeroizing<String> {
    let spaced = Zeroizing::new(if plus_is_space {
        s.replace('+', " ")
    } else {
        s.to_owned()
    });
    Zeroizing::new(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> SignPackage {
        parse(json).unwrap()
    }

    fn code(json: &str) -> i64 {
        parse(json).unwrap_err().ret_code
    }

    #[test]
    fn portal_login_package() {
        let p = ok(
            r#"{"func":"MakeSignature","tbs":"portal-login:abc.123","tbsEncoding":"NONE",
            "hashAlgorithm":"SHA256","pin":"123456","nonce":"","withCardSN":"true","signatureType":"PKCS1"}"#,
        );
        assert_eq!(p.tbs, b"portal-login:abc.123");
        assert_eq!(p.hash, HashAlg::Sha256);
        assert_eq!(p.pin.as_bytes(), b"123456");
        assert_eq!(p.signature_type, SignatureType::Pkcs1);
        assert!(p.with_card_sn);
        assert_eq!(p.nonce, None);
        assert_eq!(p.slot, None);
    }

    #[test]
    fn hipki_sample_page_encoding_is_undone() {
        // What the HiPKI samples send: encodeURIComponent(tbs), then "+" → "%2B".
        let p = ok(
            r#"{"tbs":"a%2Bb%20%E6%B8%AC%22","pin":"1234%2B56","func":"MakeSignature","signatureType":"PKCS7","withCardSN":false}"#,
        );
        assert_eq!(String::from_utf8(p.tbs).unwrap(), "a+b 測\"");
        assert_eq!(p.pin.as_bytes(), b"1234+56");
        assert_eq!(p.signature_type, SignatureType::Pkcs7);
        assert!(!p.with_card_sn);
        // A bare "+" is a space, as in a form.
        assert_eq!(ok(r#"{"tbs":"a+b","pin":"123456"}"#).tbs, b"a b");
    }

    #[test]
    fn base64_tbs_keeps_plus_signs() {
        let p =
            ok(r#"{"tbs":"+/8=","tbsEncoding":"base64","pin":"123456","signatureType":"PKCS1"}"#);
        assert_eq!(p.tbs, vec![0xFB, 0xFF]);
        assert_eq!(
            code(r#"{"tbs":"***","tbsEncoding":"base64","pin":"123456"}"#),
            codes::BASE64_DECODE
        );
    }

    #[test]
    fn defaults_and_slot() {
        let p = ok(r#"{"tbs":"x","pin":"123456","slotDescription":"Reader 1","nonce":"n1"}"#);
        assert_eq!(p.hash, HashAlg::Sha256);
        assert_eq!(p.signature_type, SignatureType::Pkcs7);
        assert_eq!(p.slot.as_deref(), Some("Reader 1"));
        assert_eq!(p.nonce.as_deref(), Some("n1"));
    }

    #[test]
    fn refusals_have_hipki_codes() {
        assert_eq!(code("not json"), codes::BAD_JSON);
        assert_eq!(
            code(r#"{"func":"DecryptData","tbs":"x","pin":"1"}"#),
            codes::UNSUPPORTED_FUNCTION
        );
        assert_eq!(
            code(r#"{"tbs":"x","pin":"123456","signatureType":"RAW"}"#),
            codes::SIGNATURE_TYPE
        );
        assert_eq!(
            code(r#"{"tbs":"x","pin":"123456","hashAlgorithm":"SHA1"}"#),
            codes::BAD_PARAMETER
        );
        assert_eq!(
            code(r#"{"tbs":"x","pin":"123456","tbsEncoding":"hex"}"#),
            codes::BAD_PARAMETER
        );
        assert_eq!(code(r#"{"pin":"123456"}"#), codes::NO_TBS);
        assert_eq!(code(r#"{"tbs":"","pin":"123456"}"#), codes::NO_TBS);
        assert_eq!(code(r#"{"tbs":"x"}"#), codes::NO_PIN);
        assert_eq!(code(r#"{"tbs":"x","pin":""}"#), codes::NO_PIN);
    }

    #[test]
    fn errors_never_echo_the_pin() {
        let e = parse(r#"{"tbs":"x","pin":"987654","hashAlgorithm":"MD5"}"#).unwrap_err();
        assert!(!format!("{e:?}").contains("987654"));
    }
}
