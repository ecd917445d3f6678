//! `pkcs11info` (`GET /pkcs11info[?withcert=true]`, popup funcs `CheckEnvir` and
//! `GetUserCert`): readers, cards, certificates.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use card_auth::CertificateInfo;
use serde::Serialize;
use time::OffsetDateTime;

use super::SERVER_VERSION;
use super::codes::{self, HipkiError};
use crate::card::{CardCertificate, CardReader, Slot, TokenState};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pkcs11Info {
    pub func: &'static str,
    pub ret_code: i64,
    pub last_error: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(rename = "serverVersion")]
    pub server_version: &'static str,
    pub version: &'static str,
    #[serde(rename = "libraryDescription")]
    pub library_description: &'static str,
    #[serde(rename = "manufacturerID")]
    pub manufacturer_id: &'static str,
    pub slots: Vec<SlotJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotJson {
    #[serde(rename = "slotID")]
    pub slot_id: usize,
    #[serde(rename = "slotDescription")]
    pub slot_description: String,
    /// An object for a usable card, the string `"unknown token"` for a card we cannot
    /// use, absent for an empty reader (HiPKI pages test `token instanceof Object`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct TokenJson {
    label: String,
    #[serde(rename = "manufacturerID")]
    manufacturer_id: String,
    model: String,
    #[serde(rename = "serialNumber")]
    serial_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    certs: Option<Vec<CertJson>>,
}

/// One certificate, with HiPKI's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct CertJson {
    label: String,
    id: String,
    certb64: String,
    #[serde(rename = "subjectDN")]
    subject_dn: String,
    #[serde(rename = "issuerDN")]
    issuer_dn: String,
    #[serde(rename = "subjectCN")]
    subject_cn: String,
    /// The 統一編號 for a business certificate (HiPKI: the holder's ID).
    #[serde(rename = "subjectID", skip_serializing_if = "Option::is_none")]
    subject_id: Option<String>,
    /// Serial, upper-case hex.
    sn: String,
    /// `YYMMDDHHMMSSZ`.
    #[serde(rename = "notBefore")]
    not_before: String,
    #[serde(rename = "notAfter")]
    not_after: String,
    /// Unix seconds.
    #[serde(rename = "notBeforeT")]
    not_before_t: i64,
    #[serde(rename = "notAfterT")]
    not_after_t: i64,
    /// keyUsage names joined with `|`, e.g. `digitalSignature`.
    usage: String,
    thumbprint: String,
}

/// Lists readers and cards. Never fails: errors become `ret_code`s with empty `slots`.
pub fn pkcs11_info(reader: &mut dyn CardReader, with_certificates: bool) -> Pkcs11Info {
    let mut answer = Pkcs11Info {
        func: "pkcs11info",
        ret_code: codes::OK,
        last_error: 0,
        message: None,
        detail: None,
        server_version: SERVER_VERSION,
        version: SERVER_VERSION,
        library_description: "card-bridge (PC/SC, PIV)",
        manufacturer_id: "card-bridge",
        slots: Vec::new(),
    };
    match reader.slots(with_certificates) {
        Ok(slots) => {
            answer.slots = slots
                .into_iter()
                .enumerate()
                .map(|(i, s)| slot_json(i, s, with_certificates))
                .collect();
        }
        Err(e) => {
            let e = HipkiError::from(e);
            answer.ret_code = e.ret_code;
            answer.last_error = e.last_error;
            answer.message = Some(codes::major_message(e.ret_code));
            answer.detail = Some(e.detail);
        }
    }
    answer
}

fn slot_json(index: usize, slot: Slot, with_certificates: bool) -> SlotJson {
    let token = match slot.token {
        TokenState::Absent => None,
        TokenState::Unrecognized => Some(serde_json::Value::from("unknown token")),
        TokenState::Present(t) => {
            let certs =
                with_certificates.then(|| t.certificates.iter().filter_map(cert_json).collect());
            serde_json::to_value(TokenJson {
                label: t.label,
                manufacturer_id: t.manufacturer,
                model: t.model,
                serial_number: t.serial,
                certs,
            })
            .ok()
        }
    };
    SlotJson {
        slot_id: index,
        slot_description: slot.description,
        token,
    }
}

/// `None` (the certificate is left out, with a warning) if it does not parse.
fn cert_json(c: &CardCertificate) -> Option<CertJson> {
    let info = match CertificateInfo::from_der(&c.der) {
        Ok(info) => info,
        Err(e) => {
            tracing::warn!(id = %c.id, error = %e, "certificate on the card does not parse");
            return None;
        }
    };
    Some(CertJson {
        label: c.label.clone(),
        id: c.id.clone(),
        certb64: STANDARD.encode(&c.der),
        subject_cn: info
            .subject_cn
            .clone()
            .or_else(|| info.organization.clone())
            .unwrap_or_default(),
        subject_dn: info.subject_dn,
        issuer_dn: info.issuer_dn,
        subject_id: info.tax_id,
        sn: info.serial_hex.to_ascii_uppercase(),
        not_before: utc_time_text(info.not_before),
        not_after: utc_time_text(info.not_after),
        not_before_t: info.not_before.unix_timestamp(),
        not_after_t: info.not_after.unix_timestamp(),
        usage: info.key_usage.join("|"),
        thumbprint: info.sha1_thumbprint,
    })
}

fn utc_time_text(t: OffsetDateTime) -> String {
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        t.year().rem_euclid(100),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
