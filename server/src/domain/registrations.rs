//! 憑證註冊: the applicant uploads the `.cer` with the staff name, customs office and broker
//! code. Accepted only for a certificate this CA signed, stored by us, for the caller's
//! company; once per certificate. The application is the one the certificate was issued
//! for (a page of another application is refused, naming the right one), and the broker
//! code must be the staff code that certificate was issued with.

use base64::Engine as _;
use proto::api::{RegistrationRequest, RegistrationView};
use proto::validate::{Errors, FieldCode};
use time::OffsetDateTime;

use super::transitions::{self, CertEvent, Note, Step};
use super::{Actor, DomainError, DomainResult, Services, applications, rfc3339};
use crate::db::registrations::NewRegistration;
use crate::db::{self, registrations};

/// The only certificate type registered here: 通關專屬憑證 (non-IC-card).
pub const CERT_TYPE: &str = "customs_dedicated";

fn validate(req: &RegistrationRequest) -> Result<(), Vec<proto::validate::FieldError>> {
    let mut e = Errors::default();
    let name = req.staff_name.trim();
    if name.is_empty() {
        e.push("staff_name", FieldCode::Required);
    } else if name.chars().count() > 30 {
        e.push("staff_name", FieldCode::TooLong);
    }
    if req.customs_office.is_none() {
        e.push("customs_office", FieldCode::Required);
    }
    if let Err(code) = proto::validate::staff_code(req.broker_code.trim()) {
        e.push("broker_code", code);
    }
    if req.cert_type != CERT_TYPE {
        e.push("cert_type", FieldCode::NotAllowed);
    }
    if req.cer_der_b64.trim().is_empty() {
        e.push("cer_der_b64", FieldCode::Required);
    }
    e.into_result()
}

/// The uploaded file as DER: base64 of DER, or base64 of a PEM file.
fn decode_upload(b64: &str) -> DomainResult<Vec<u8>> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| DomainError::field("cer_der_b64", FieldCode::Format))?;
    if let Ok(text) = std::str::from_utf8(&bytes)
        && text.contains("-----BEGIN CERTIFICATE-----")
    {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        return base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| DomainError::BadCertificate("the PEM file could not be read".into()));
    }
    Ok(bytes)
}

pub async fn register(
    svc: &Services,
    tax_id: &str,
    req: &RegistrationRequest,
    now: OffsetDateTime,
) -> DomainResult<RegistrationView> {
    validate(req).map_err(DomainError::Validation)?;
    let der = decode_upload(&req.cer_der_b64)?;
    let info = svc.ca.inspect_issued(&der).map_err(|e| match e {
        ca::CaError::NotOurs => {
            DomainError::BadCertificate("the certificate was not issued by this CA".into())
        }
        other => DomainError::BadCertificate(format!("the file is not a certificate: {other}")),
    })?;
    let not_ours = || {
        DomainError::BadCertificate(
            "the certificate was not issued by this CA to your company".into(),
        )
    };
    let serial_hex = info.serial.to_hex();
    let mut tx = svc.db.write().await?;
    let cert = db::certificates::by_serial(&mut tx, &serial_hex, svc.db.for_update())
        .await?
        .ok_or_else(not_ours)?;
    if cert.tax_id != tax_id || cert.cert_der.as_deref() != Some(der.as_slice()) {
        return Err(not_ours());
    }
    let office = req
        .customs_office
        .ok_or_else(|| DomainError::field("customs_office", FieldCode::Required))?;
    let issuing = applications::by_id(&mut tx, cert.application_id).await?;
    if let Some(page) = req
        .application_serial
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        && page != issuing.serial
    {
        return Err(DomainError::BadCertificate(format!(
            "this certificate was issued for application {}, not {page}",
            issuing.serial
        )));
    }
    if !broker_matches(
        req.broker_code.trim(),
        &issuing.staff_code,
        cert.organizational_unit.as_deref(),
    ) {
        return Err(DomainError::field("broker_code", FieldCode::Mismatch));
    }
    let actor = Actor::Applicant {
        tax_id: tax_id.to_owned(),
    };
    let t = now.unix_timestamp();
    // Valid and not registered yet (a second registration is a `conflict`), then recorded.
    transitions::apply(
        &mut tx,
        svc,
        &actor,
        Step::Cert {
            event: CertEvent::Register,
            cert: &cert,
            issuing: &issuing,
        },
        Note {
            detail: serde_json::json!({
                "customs_office": office.code(),
                "broker_code": req.broker_code.trim(),
            }),
            certificate_serial: Some(&serial_hex),
            ..Note::default()
        },
        now,
    )
    .await?;
    registrations::insert(
        &mut tx,
        &NewRegistration {
            certificate_id: cert.id,
            staff_name: req.staff_name.trim(),
            customs_office: office,
            broker_code: req.broker_code.trim(),
            cert_type: CERT_TYPE,
            at: t,
        },
    )
    .await?;
    // A renewal's certificate in use replaces the one it renews (docs/ARCHITECTURE.md).
    super::renewal::on_registration(&mut tx, svc, &actor, &issuing, now).await?;
    let app_serial = issuing.serial;
    tx.commit().await?;
    Ok(RegistrationView {
        serial_hex,
        application_serial: app_serial,
        staff_name: req.staff_name.trim().to_owned(),
        customs_office: office,
        broker_code: req.broker_code.trim().to_owned(),
        registered_at: rfc3339(t),
    })
}

/// The broker code must be the staff code the certificate was issued with (its OU, where the
/// certificate carries one).
fn broker_matches(broker: &str, staff_code: &str, ou: Option<&str>) -> bool {
    let same = |a: &str| a.eq_ignore_ascii_case(broker);
    same(staff_code) && ou.is_none_or(same)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_code_is_the_certificates_staff_code() {
        assert!(broker_matches("K1234", "K1234", Some("K1234")));
        assert!(broker_matches("k1234", "K1234", None));
        assert!(!broker_matches("Z9999", "K1234", Some("K1234")));
        assert!(!broker_matches("K1234", "K1234", Some("Z9999")));
    }

    #[test]
    fn uploads_are_der_or_pem() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x01];
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        assert_eq!(decode_upload(&b64).unwrap(), der);
        let pem = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        let pem_b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        assert_eq!(decode_upload(&pem_b64).unwrap(), der);
        assert!(decode_upload("!!!").is_err());
    }
}
