//! Rows → wire views, including what the caller may do next (`actions`, derived from
//! [`super::transitions`]).

use proto::api::{ApplicationView, BillView, CertificateView};
use sqlx::AnyConnection;

use super::{Actor, DomainResult, applications, rfc3339, transitions};
use crate::db::applications::AppRow;
use crate::db::bills::BillRow;
use crate::db::certificates::CertRow;
use crate::db::{self, Lock, registrations};

impl CertRow {
    /// Subject as RFC 4514-ish text for display.
    pub fn subject_text(&self) -> String {
        let mut parts = vec![format!("CN={}", self.cert_name)];
        if let Some(ou) = &self.organizational_unit {
            parts.push(format!("OU={ou}"));
        }
        parts.push(format!("O={}", self.organization));
        parts.push(format!("serialNumber={}", self.tax_id));
        parts.push("C=TW".into());
        parts.join(", ")
    }
}

pub fn bill_view(b: &BillRow) -> BillView {
    BillView {
        bill_no: b.bill_no.clone(),
        amount: b.amount,
        due_at: rfc3339(b.due_at),
        status: b.status,
        paid_at: b.paid_at.map(rfc3339),
        receipt_no: b.receipt_no.clone(),
        virtual_account: proto::payment::virtual_account(&b.bill_no),
    }
}

pub fn certificate_view(c: &CertRow, registered: bool, now: i64) -> CertificateView {
    let status = c.shown_status(now);
    CertificateView {
        serial_hex: c.serial_hex.clone(),
        cert_name: c.cert_name.clone(),
        subject: c.subject_text(),
        not_before: rfc3339(c.not_before),
        not_after: rfc3339(c.not_after),
        status,
        registered,
        expiring_soon: matches!(
            status,
            proto::CertStatus::Valid | proto::CertStatus::Suspended
        ) && super::reminders::expiring_soon(c.not_after, now),
    }
}

/// `A12*******`: enough to recognise, not enough to copy.
pub fn mask_national_id(id: &str) -> String {
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 3 { c } else { '*' })
        .collect()
}

/// The certificate an application is about: its own for new/renew, the target's otherwise.
pub async fn certificate_for(
    conn: &mut AnyConnection,
    app: &AppRow,
) -> DomainResult<Option<CertRow>> {
    if app.app_type.issues_certificate() {
        Ok(db::certificates::of_application(conn, app.id).await?)
    } else if let Some(target) = app.target_id {
        Ok(db::certificates::of_application(conn, target).await?)
    } else {
        Ok(None)
    }
}

pub async fn application_view(
    conn: &mut AnyConnection,
    app: &AppRow,
    actor: &Actor,
    now: i64,
) -> DomainResult<ApplicationView> {
    let bill = db::bills::of_application(conn, app.id, Lock::NONE).await?;
    let cert = certificate_for(conn, app).await?;
    let registered = match &cert {
        Some(c) => registrations::exists(conn, c.id).await?,
        None => false,
    };
    let target = match app.target_id {
        Some(id) => Some(applications::by_id(conn, id).await?.serial),
        None => None,
    };
    let cert_view = cert
        .as_ref()
        .filter(|c| c.cert_der.is_some())
        .map(|c| certificate_view(c, registered, now));
    Ok(ApplicationView {
        serial: app.serial.clone(),
        tax_id: app.tax_id.clone(),
        app_type: app.app_type,
        status: app.status,
        created_at: rfc3339(app.created_at),
        updated_at: rfc3339(app.updated_at),
        target,
        company: app.company.clone(),
        contact: app.contact.clone(),
        customs_office: app.customs_office,
        business_type: app.business_type,
        box_number: app.box_number.clone(),
        cert_kind: app.cert_kind,
        staff_code: app.staff_code.clone(),
        staff_national_id_masked: mask_national_id(&app.staff_national_id),
        cert_name: app.cert_name.clone(),
        reason: app.reason.clone(),
        bill: bill.as_ref().map(bill_view),
        certificate: cert_view,
        actions: transitions::actions(actor, app, cert.as_ref().map(|c| (c, registered)), now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_ids_are_masked_after_three_characters() {
        assert_eq!(mask_national_id("A123456789"), "A12*******");
        assert_eq!(mask_national_id(""), "");
    }
}
