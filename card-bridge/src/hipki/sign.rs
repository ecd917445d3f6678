//! `MakeSignature`: from a `tbsPackage` to the `{"func":"sign", …}` answer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::codes::{self, HipkiError};
use super::package::{self, SignPackage, SignatureType};
use super::{SERVER_VERSION, cms};
use crate::card::{CardReader, SignRequest};

/// The answer to `MakeSignature`. Success: `ret_code` 0 with `signature` (base64),
/// `certb64` (the signer's certificate, base64 DER) and `cardSN`. Failure: non-zero
/// `ret_code`/`last_error` with HiPKI's `message`/`message2` texts, our English `detail`,
/// and `tries_left` after a wrong PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignResponse {
    pub func: &'static str,
    pub ret_code: i64,
    pub last_error: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message2: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certb64: Option<String>,
    #[serde(rename = "cardSN", skip_serializing_if = "Option::is_none")]
    pub card_sn: Option<String>,
    #[serde(rename = "slotDescription", skip_serializing_if = "Option::is_none")]
    pub slot_description: Option<String>,
    pub version: &'static str,
}

impl SignResponse {
    fn error(e: HipkiError) -> Self {
        Self {
            func: "sign",
            ret_code: e.ret_code,
            last_error: e.last_error,
            message: Some(codes::major_message(e.ret_code)),
            message2: codes::minor_message(e.last_error),
            detail: Some(e.detail),
            tries_left: e.tries_left,
            signature: None,
            certb64: None,
            card_sn: None,
            slot_description: None,
            version: SERVER_VERSION,
        }
    }
}

/// Parses `package_json`, has the card sign, and answers. Never fails: every problem is
/// an answer with a HiPKI error code.
pub fn make_signature(
    reader: &mut dyn CardReader,
    package_json: &str,
    now: time::OffsetDateTime,
) -> SignResponse {
    match package::parse(package_json).and_then(|p| sign(reader, &p, now)) {
        Ok(r) => r,
        Err(e) => SignResponse::error(e),
    }
}

fn sign(
    reader: &mut dyn CardReader,
    p: &SignPackage,
    now: time::OffsetDateTime,
) -> Result<SignResponse, HipkiError> {
    let signed_attrs;
    let to_sign: &[u8] = match p.signature_type {
        SignatureType::Pkcs1 => &p.tbs,
        SignatureType::Pkcs7 => {
            // The card serial goes into the signed attributes, so it is needed first; for
            // a PIV card it is read again during signing, which is cheap.
            let serial = if p.with_card_sn {
                Some(card_serial(reader, p.slot.as_deref())?)
            } else {
                None
            };
            signed_attrs =
                cms::signed_attributes(p.hash, &p.tbs, now, p.nonce.as_deref(), serial.as_deref())
                    .map_err(|e| {
                        HipkiError::new(codes::SIGNATURE_DER, format!("signed attributes: {e}"))
                    })?;
            &signed_attrs
        }
    };
    let digest = p.hash.digest(to_sign);
    let signed = reader.sign(&SignRequest {
        slot: p.slot.as_deref(),
        pin: &p.pin,
        hash: p.hash,
        digest: &digest,
    })?;
    let signature = match p.signature_type {
        SignatureType::Pkcs1 => signed.signature,
        SignatureType::Pkcs7 => cms::signed_data(
            p.hash,
            &p.tbs,
            to_sign,
            &signed.signature,
            &signed.certificate,
        )
        .map_err(|e| HipkiError::new(codes::SIGNATURE_DER, format!("PKCS#7: {e}")))?,
    };
    Ok(SignResponse {
        func: "sign",
        ret_code: codes::OK,
        last_error: 0,
        message: None,
        message2: None,
        detail: None,
        tries_left: None,
        signature: Some(STANDARD.encode(signature)),
        certb64: Some(STANDARD.encode(&signed.certificate)),
        card_sn: Some(signed.card_serial),
        slot_description: Some(signed.slot),
        version: SERVER_VERSION,
    })
}

/// Serial of the card that will sign (the named slot, or the first usable card).
fn card_serial(reader: &mut dyn CardReader, slot: Option<&str>) -> Result<String, HipkiError> {
    use crate::card::{CardError, TokenState};
    let slots = reader.slots(false)?;
    slots
        .into_iter()
        .filter(|s| slot.is_none_or(|want| s.description == want))
        .find_map(|s| match s.token {
            TokenState::Present(t) => Some(t.serial),
            _ => None,
        })
        .ok_or_else(|| HipkiError::from(CardError::NoCard))
}
