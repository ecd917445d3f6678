//! Status mails, queued in the caller's transaction (the outbox row exists if and only if the
//! state change committed). Which transition mails whom is the `mail` column of
//! [`super::transitions`].

use mailer::{MailKind, MailParams, NewMail};
use proto::api::{MailState, MailView};
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{DomainResult, Services};
use crate::db::applications::AppRow;

/// What a mail mentions besides the application itself.
#[derive(Debug, Default, Clone)]
pub struct Extra {
    pub bill_no: Option<String>,
    pub amount: Option<i64>,
    pub due_on: Option<time::Date>,
    pub certificate_name: Option<String>,
    pub certificate_serial: Option<String>,
    pub reason: Option<String>,
}

/// Queue the `kind` mail to the application's contact.
pub async fn queue(
    conn: &mut AnyConnection,
    svc: &Services,
    kind: MailKind,
    app: &AppRow,
    extra: Extra,
    now: OffsetDateTime,
) -> DomainResult<()> {
    let params = MailParams {
        serial: app.serial.clone(),
        company_name: app.company.name.clone(),
        contact_name: app.contact.name.clone(),
        bill_no: extra.bill_no,
        amount: extra.amount,
        due_on: extra.due_on,
        certificate_name: extra.certificate_name.or_else(|| app.cert_name.clone()),
        certificate_serial: extra.certificate_serial,
        reason: extra.reason.filter(|r| !r.is_empty()),
        portal_url: svc.portal_url.clone(),
    };
    let mail = NewMail {
        kind,
        to: app.contact.email.clone(),
        application_serial: Some(app.serial.clone()),
        rendered: mailer::render(kind, &params),
    };
    mailer::enqueue_with_domain(conn, &mail, now, &svc.mail_domain).await?;
    Ok(())
}

/// The outbox as operators see it (the mailer crate owns its SQL).
pub async fn outbox(svc: &Services, state: Option<MailState>) -> DomainResult<Vec<MailView>> {
    Ok(mailer::list_mail(&svc.db.pool, state).await?)
}
