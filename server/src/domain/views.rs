//! Rows → wire views, including what the caller may do next (`actions`).

use proto::api::{ApplicationView, BillView, CertificateView};
use proto::{Action, CertStatus, Role, Status};
use sqlx::AnyConnection;

use super::rows::{self, AppRow, BillRow, CertRow};
use super::{DomainResult, rfc3339};

pub fn bill_view(b: &BillRow) -> BillView {
    BillView {
        bill_no: b.bill_no.clone(),
        amount: b.amount,
        due_at: rfc3339(b.due_at),
        status: b.status,
        paid_at: b.paid_at.map(rfc3339),
    }
}

pub fn certificate_view(c: &CertRow, registered: bool, now: i64) -> CertificateView {
    CertificateView {
        serial_hex: c.serial_hex.clone(),
        cert_name: c.cert_name.clone(),
        subject: c.subject_text(),
        not_before: rfc3339(c.not_before),
        not_after: rfc3339(c.not_after),
        status: c.shown_status(now),
        registered,
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
        rows::cert_of(conn, app.id).await
    } else if let Some(target) = app.target_id {
        rows::cert_of(conn, target).await
    } else {
        Ok(None)
    }
}

fn actions(app: &AppRow, cert: Option<(&CertRow, bool)>, role: Role, now: i64) -> Vec<Action> {
    let mut out = Vec::new();
    let issuing = app.app_type.issues_certificate();
    if role == Role::Applicant && issuing {
        match app.status {
            Status::Submitted => out.push(Action::PrintSlip),
            Status::Paid => out.push(Action::Generate),
            _ => {}
        }
    }
    let Some((cert, registered)) = cert.filter(|_| issuing && app.status == Status::Completed)
    else {
        return out;
    };
    if cert.cert_der.is_none() {
        return out;
    }
    let shown = cert.shown_status(now);
    if role == Role::Applicant {
        out.push(Action::Download);
        if shown == CertStatus::Valid && !registered {
            out.push(Action::Register);
        }
        if matches!(shown, CertStatus::Valid | CertStatus::Suspended) {
            out.push(Action::Change);
        }
        if shown == CertStatus::Valid {
            out.push(Action::Renew);
        }
    }
    match shown {
        CertStatus::Valid => out.extend([Action::Revoke, Action::Suspend]),
        CertStatus::Suspended => out.extend([Action::Revoke, Action::Unsuspend]),
        _ => {}
    }
    out
}

pub async fn application_view(
    conn: &mut AnyConnection,
    app: &AppRow,
    role: Role,
    now: i64,
) -> DomainResult<ApplicationView> {
    let bill = rows::bill_of(conn, app.id).await?;
    let cert = certificate_for(conn, app).await?;
    let registered = match &cert {
        Some(c) => rows::is_registered(conn, c.id).await?,
        None => false,
    };
    let target = match app.target_id {
        Some(id) => Some(rows::app_by_id(conn, id).await?.serial),
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
        actions: actions(app, cert.as_ref().map(|c| (c, registered)), role, now),
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
