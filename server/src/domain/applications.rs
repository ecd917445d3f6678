//! Applications: creation for every type, reads and searches within the caller's company.
//!
//! new / renew:  create → 10 (bill issued) → 20 (paid) → A0 (certificate signed), or → A9
//! modify / revoke / suspend / unsuspend:  create → A0 at once, acting on the target's
//! certificate.

use mailer::MailKind;
use proto::api::{ApplicationForm, ApplicationQuery, ApplicationView};
use proto::validate::FieldCode;
use proto::{ApplicationType, CertKind, CertStatus, Role, Status};
use sha2::{Digest as _, Sha256};
use sqlx::{AnyConnection, Row as _};
use time::OffsetDateTime;

use super::certificates::{self, CertAction};
use super::notify::{self, Extra};
use super::rows::{self, APP_COLUMNS, AppRow};
use super::{
    Actor, DomainError, DomainResult, Services, audit, bills, parse_date, taipei_date,
    taipei_midnight, views,
};
use crate::db::counters;
use crate::db::query::{Filter, Value};

/// Results per search; the page narrows by date instead of paging.
const LIST_LIMIT: i64 = 500;

/// What `create` did: made the application now, or found the one an earlier request with the
/// same idempotency key made (the view is then of its current state).
#[derive(Debug)]
pub struct Created {
    pub view: ApplicationView,
    pub replayed: bool,
}

/// `Idempotency-Key`: 8-128 letters, digits, `-`, `_`, `.` or `:` (a UUID fits).
pub fn check_idempotency_key(key: &str) -> DomainResult<()> {
    let ok = (8..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::field("idempotency_key", FieldCode::Format))
    }
}

/// Create an application for the applicant's company (`tax_id` comes from the session).
///
/// With an idempotency key, a repeat of the same request (same company, key and form) returns
/// the application the first one made, whether the first is finished or still running in
/// another transaction; the same key with a different form is a conflict.
pub async fn create(
    svc: &Services,
    tax_id: &str,
    form: &ApplicationForm,
    idempotency_key: Option<&str>,
    now: OffsetDateTime,
) -> DomainResult<Created> {
    proto::validate::application(form).map_err(DomainError::Validation)?;
    if proto::validate::tax_id(tax_id).is_err() {
        return Err(DomainError::Forbidden("the session has no valid tax ID"));
    }
    let request = match idempotency_key {
        Some(key) => {
            check_idempotency_key(key)?;
            Some((key, form_hash(form)?))
        }
        None => None,
    };
    match create_once(svc, tax_id, form, request.as_ref(), now).await {
        // Another request with this key committed first while ours waited on its row.
        Err(DomainError::Db(e)) if request.is_some() && is_unique_violation(&e) => {
            let mut conn = svc.db.pool.acquire().await?;
            match replay(&mut conn, tax_id, request.as_ref(), now).await? {
                Some(view) => Ok(Created {
                    view,
                    replayed: true,
                }),
                None => Err(DomainError::Db(e)),
            }
        }
        other => other,
    }
}

async fn create_once(
    svc: &Services,
    tax_id: &str,
    form: &ApplicationForm,
    request: Option<&(&str, String)>,
    now: OffsetDateTime,
) -> DomainResult<Created> {
    let actor = Actor::Applicant {
        tax_id: tax_id.to_owned(),
    };
    let mut tx = svc.db.write().await?;
    if let Some(view) = replay(&mut tx, tax_id, request, now).await? {
        tx.rollback().await?;
        return Ok(Created {
            view,
            replayed: true,
        });
    }
    let app = match form.app_type {
        ApplicationType::New => create_new(&mut tx, svc, &actor, tax_id, form, now).await?,
        _ => create_targeted(&mut tx, svc, &actor, tax_id, form, now).await?,
    };
    if let Some((key, hash)) = request {
        sqlx::query(
            "INSERT INTO application_requests (tax_id, idempotency_key, request_hash, \
             application_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tax_id.to_owned())
        .bind((*key).to_owned())
        .bind(hash.clone())
        .bind(app.id)
        .bind(now.unix_timestamp())
        .execute(&mut *tx)
        .await?;
    }
    let view =
        views::application_view(&mut tx, &app, Role::Applicant, now.unix_timestamp()).await?;
    tx.commit().await?;
    Ok(Created {
        view,
        replayed: false,
    })
}

/// The application an earlier request with this key made, or `None` for a new key.
async fn replay(
    conn: &mut AnyConnection,
    tax_id: &str,
    request: Option<&(&str, String)>,
    now: OffsetDateTime,
) -> DomainResult<Option<ApplicationView>> {
    let Some((key, hash)) = request else {
        return Ok(None);
    };
    let Some(row) = sqlx::query(
        "SELECT application_id, request_hash FROM application_requests \
         WHERE tax_id = $1 AND idempotency_key = $2",
    )
    .bind(tax_id.to_owned())
    .bind((*key).to_owned())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let stored: String = row.try_get("request_hash")?;
    if stored != *hash {
        return Err(DomainError::IdempotencyKeyReused);
    }
    let app = rows::app_by_id(conn, row.try_get("application_id")?).await?;
    Ok(Some(
        views::application_view(conn, &app, Role::Applicant, now.unix_timestamp()).await?,
    ))
}

fn form_hash(form: &ApplicationForm) -> DomainResult<String> {
    let json = serde_json::to_vec(form).map_err(|e| DomainError::Internal(e.to_string()))?;
    Ok(super::hex(&Sha256::digest(&json)))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Values of a row to insert (the form's company/contact plus certificate attributes).
struct NewRow<'a> {
    tax_id: &'a str,
    app_type: ApplicationType,
    status: Status,
    target_id: Option<i64>,
    form: &'a ApplicationForm,
    attrs: &'a AppRow,
    cert_name: Option<String>,
}

async fn insert(
    conn: &mut AnyConnection,
    r: NewRow<'_>,
    now: OffsetDateTime,
) -> DomainResult<AppRow> {
    let serial = bills::next_application_serial(conn, now).await?;
    let t = now.unix_timestamp();
    let f = r.form;
    let row = sqlx::query(
        "INSERT INTO applications (serial, tax_id, app_type, status, target_id, company_name, \
         company_phone, company_fax, responsible_person, responsible_phone, contact_name, \
         contact_phone, contact_mobile, contact_email, customs_office, business_type, box_number, \
         cert_kind, staff_code, staff_national_id, cert_name, reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24) RETURNING id",
    )
    .bind(serial)
    .bind(r.tax_id.to_owned())
    .bind(r.app_type.code())
    .bind(r.status.code())
    .bind(r.target_id)
    .bind(f.company.name.trim().to_owned())
    .bind(f.company.phone.clone())
    .bind(f.company.fax.clone())
    .bind(f.company.responsible_person.trim().to_owned())
    .bind(f.company.responsible_phone.clone())
    .bind(f.contact.name.trim().to_owned())
    .bind(f.contact.phone.clone())
    .bind(f.contact.mobile.clone())
    .bind(f.contact.email.trim().to_owned())
    .bind(r.attrs.customs_office.code())
    .bind(r.attrs.business_type.code())
    .bind(r.attrs.box_number.clone())
    .bind(r.attrs.cert_kind.code())
    .bind(r.attrs.staff_code.clone())
    .bind(r.attrs.staff_national_id.clone())
    .bind(r.cert_name)
    .bind(f.reason.trim().to_owned())
    .bind(t)
    .bind(t)
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.try_get(0)?;
    rows::app_by_id(conn, id).await
}

/// `SingleWindow-NN-<box>`: NN counts the company's issuing applications for that box.
async fn next_cert_name(
    conn: &mut AnyConnection,
    tax_id: &str,
    box_number: &str,
) -> DomainResult<String> {
    let n = counters::next(conn, &format!("cert_name:{tax_id}:{box_number}")).await?;
    Ok(format!("SingleWindow-{n:02}-{box_number}"))
}

/// Certificate attributes of a `new` form as a row template.
fn attrs_of_form(tax_id: &str, form: &ApplicationForm) -> DomainResult<AppRow> {
    let missing = |f: &str| DomainError::field(f, FieldCode::Required);
    let cert_kind = form.cert_kind.ok_or_else(|| missing("cert_kind"))?;
    Ok(AppRow {
        id: 0,
        serial: String::new(),
        tax_id: tax_id.to_owned(),
        app_type: form.app_type,
        status: Status::Submitted,
        target_id: None,
        company: form.company.clone(),
        contact: form.contact.clone(),
        customs_office: form
            .customs_office
            .ok_or_else(|| missing("customs_office"))?,
        business_type: form.business_type.ok_or_else(|| missing("business_type"))?,
        box_number: form.box_number.clone(),
        cert_kind,
        staff_code: form.staff_code.clone(),
        staff_national_id: if cert_kind == CertKind::Individual {
            form.staff_national_id.clone()
        } else {
            String::new()
        },
        cert_name: None,
        reason: String::new(),
        created_at: 0,
        updated_at: 0,
    })
}

async fn create_new(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    tax_id: &str,
    form: &ApplicationForm,
    now: OffsetDateTime,
) -> DomainResult<AppRow> {
    let attrs = attrs_of_form(tax_id, form)?;
    let cert_name = next_cert_name(conn, tax_id, &attrs.box_number).await?;
    let app = insert(
        conn,
        NewRow {
            tax_id,
            app_type: ApplicationType::New,
            status: Status::Submitted,
            target_id: None,
            form,
            attrs: &attrs,
            cert_name: Some(cert_name),
        },
        now,
    )
    .await?;
    submitted(conn, svc, actor, &app, now).await?;
    Ok(app)
}

/// Bill, audit and mail of a new or renew application entering status 10.
async fn submitted(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    app: &AppRow,
    now: OffsetDateTime,
) -> DomainResult<()> {
    let bill = bills::create(conn, app.id, now).await?;
    audit::record(
        conn,
        actor,
        audit::Entry {
            action: "application.submit",
            application_serial: Some(&app.serial),
            detail: serde_json::json!({
                "type": app.app_type.code(),
                "status": app.status.code(),
                "bill_no": bill.bill_no,
                "amount": bill.amount,
                "cert_name": app.cert_name,
            }),
            ..audit::Entry::default()
        },
        now,
    )
    .await?;
    notify::queue(
        conn,
        svc,
        MailKind::Submitted,
        app,
        Extra {
            bill_no: Some(bill.bill_no.clone()),
            amount: Some(bill.amount),
            due_on: super::from_unix(bill.due_at).ok().map(taipei_date),
            ..Extra::default()
        },
        now,
    )
    .await
}

async fn create_targeted(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    tax_id: &str,
    form: &ApplicationForm,
    now: OffsetDateTime,
) -> DomainResult<AppRow> {
    let target_serial = form.target.as_deref().unwrap_or_default().trim();
    let target =
        rows::app_by_serial(conn, target_serial, Some(tax_id), svc.db.for_update()).await?;
    if !target.app_type.issues_certificate() {
        return Err(DomainError::field("target", FieldCode::NotAllowed));
    }
    if target.status != Status::Completed {
        return Err(DomainError::transition(
            "the target application has no issued certificate",
        ));
    }
    let cert = rows::cert_of(conn, target.id)
        .await?
        .filter(|c| c.cert_der.is_some())
        .ok_or_else(|| {
            DomainError::transition("the target application has no issued certificate")
        })?;
    let t = now.unix_timestamp();
    let shown = cert.shown_status(t);
    match form.app_type {
        ApplicationType::New => Err(DomainError::Internal("new is not a targeted type".into())),
        ApplicationType::Renew => {
            if shown != CertStatus::Valid {
                return Err(DomainError::transition(
                    "only a valid certificate can be renewed",
                ));
            }
            let open = sqlx::query(
                "SELECT COUNT(*) FROM applications WHERE target_id = $1 AND app_type = 'renew' \
                 AND status IN ('10', '20')",
            )
            .bind(target.id)
            .fetch_one(&mut *conn)
            .await?
            .try_get::<i64, _>(0)?;
            if open > 0 {
                return Err(DomainError::transition(
                    "a renewal of this certificate is already in progress",
                ));
            }
            let cert_name = next_cert_name(conn, tax_id, &target.box_number).await?;
            let app = insert(
                conn,
                NewRow {
                    tax_id,
                    app_type: ApplicationType::Renew,
                    status: Status::Submitted,
                    target_id: Some(target.id),
                    form,
                    attrs: &target,
                    cert_name: Some(cert_name),
                },
                now,
            )
            .await?;
            submitted(conn, svc, actor, &app, now).await?;
            Ok(app)
        }
        ApplicationType::Modify => {
            if !matches!(shown, CertStatus::Valid | CertStatus::Suspended) {
                return Err(DomainError::transition(
                    "only the data of a valid or suspended certificate can be changed",
                ));
            }
            let app = insert(
                conn,
                completed_row(tax_id, ApplicationType::Modify, &target, form),
                now,
            )
            .await?;
            let updated = sqlx::query(
                "UPDATE applications SET company_name = $1, company_phone = $2, company_fax = $3, \
                 responsible_person = $4, responsible_phone = $5, contact_name = $6, \
                 contact_phone = $7, contact_mobile = $8, contact_email = $9, updated_at = $10 \
                 WHERE id = $11 AND status = 'A0'",
            )
            .bind(app.company.name.clone())
            .bind(app.company.phone.clone())
            .bind(app.company.fax.clone())
            .bind(app.company.responsible_person.clone())
            .bind(app.company.responsible_phone.clone())
            .bind(app.contact.name.clone())
            .bind(app.contact.phone.clone())
            .bind(app.contact.mobile.clone())
            .bind(app.contact.email.clone())
            .bind(t)
            .bind(target.id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if updated != 1 {
                return Err(DomainError::transition(
                    "the target application changed meanwhile",
                ));
            }
            audit::record(
                conn,
                actor,
                audit::Entry {
                    action: "application.modify",
                    application_serial: Some(&app.serial),
                    certificate_serial: Some(&cert.serial_hex),
                    detail: serde_json::json!({
                        "target": target.serial,
                        "status": app.status.code(),
                    }),
                    ..audit::Entry::default()
                },
                now,
            )
            .await?;
            Ok(app)
        }
        ApplicationType::Revoke | ApplicationType::Suspend | ApplicationType::Unsuspend => {
            let action = match form.app_type {
                ApplicationType::Revoke => CertAction::Revoke,
                ApplicationType::Suspend => CertAction::Suspend,
                _ => CertAction::Unsuspend,
            };
            // Refuse before creating anything, so a refused request leaves no application.
            certificates::check(&cert, action, t)?;
            let app = insert(
                conn,
                completed_row(tax_id, form.app_type, &target, form),
                now,
            )
            .await?;
            audit::record(
                conn,
                actor,
                audit::Entry {
                    action: "application.submit",
                    application_serial: Some(&app.serial),
                    certificate_serial: Some(&cert.serial_hex),
                    detail: serde_json::json!({
                        "type": app.app_type.code(),
                        "status": app.status.code(),
                        "target": target.serial,
                    }),
                    ..audit::Entry::default()
                },
                now,
            )
            .await?;
            certificates::apply(conn, svc, actor, &cert, action, &form.reason, &app, now).await?;
            Ok(app)
        }
    }
}

fn completed_row<'a>(
    tax_id: &'a str,
    app_type: ApplicationType,
    target: &'a AppRow,
    form: &'a ApplicationForm,
) -> NewRow<'a> {
    NewRow {
        tax_id,
        app_type,
        status: Status::Completed,
        target_id: Some(target.id),
        form,
        attrs: target,
        cert_name: None,
    }
}

/// One application as `actor` may see it (another company's serial is `not_found`).
pub async fn get(
    svc: &Services,
    actor: &Actor,
    serial: &str,
    now: OffsetDateTime,
) -> DomainResult<ApplicationView> {
    let mut conn = svc.db.pool.acquire().await?;
    let app = rows::app_by_serial(&mut conn, serial, actor.company(), "").await?;
    views::application_view(&mut conn, &app, role_of(actor), now.unix_timestamp()).await
}

pub fn role_of(actor: &Actor) -> Role {
    match actor {
        Actor::Applicant { .. } => Role::Applicant,
        _ => Role::Operator,
    }
}

/// Search, newest first. Applicants see only their company; `tax_id` and `q` are for
/// operators (ignored for applicants).
pub async fn list(
    svc: &Services,
    actor: &Actor,
    q: &ApplicationQuery,
    now: OffsetDateTime,
) -> DomainResult<Vec<ApplicationView>> {
    let mut filter = Filter::default();
    match actor.company() {
        Some(tax_id) => filter.push("a.tax_id = ?", [Value::Text(tax_id.to_owned())]),
        None => {
            if let Some(t) = q.tax_id.as_deref().filter(|t| !t.is_empty()) {
                filter.push("a.tax_id = ?", [Value::Text(t.to_owned())]);
            }
            if let Some(s) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                let s = s.to_owned();
                filter.push(
                    "(a.serial = ? OR a.id IN (SELECT application_id FROM bills WHERE bill_no = ?) \
                     OR a.id IN (SELECT application_id FROM certificates WHERE serial_hex = ?))",
                    [
                        Value::Text(s.clone()),
                        Value::Text(s.clone()),
                        Value::Text(s.to_ascii_lowercase()),
                    ],
                );
            }
        }
    }
    if let Some(from) = q.from.as_deref().filter(|s| !s.is_empty()) {
        let d = parse_date(from).ok_or_else(|| DomainError::field("from", FieldCode::Format))?;
        filter.push("a.created_at >= ?", [Value::Int(taipei_midnight(d))]);
    }
    if let Some(to) = q.to.as_deref().filter(|s| !s.is_empty()) {
        let d = parse_date(to).ok_or_else(|| DomainError::field("to", FieldCode::Format))?;
        let next = d
            .next_day()
            .ok_or_else(|| DomainError::field("to", FieldCode::Format))?;
        filter.push("a.created_at < ?", [Value::Int(taipei_midnight(next))]);
    }
    if let Some(t) = q.app_type {
        filter.push("a.app_type = ?", [Value::Text(t.code().to_owned())]);
    }
    if let Some(s) = q.status {
        filter.push("a.status = ?", [Value::Text(s.code().to_owned())]);
    }
    let limit = filter.bind_next(Value::Int(LIST_LIMIT));
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM applications a{} ORDER BY a.created_at DESC, a.id DESC LIMIT {limit}",
        filter.where_clause()
    );
    let mut conn = svc.db.pool.acquire().await?;
    let rows = filter.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let role = role_of(actor);
    let t = now.unix_timestamp();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let app = AppRow::from_row(r)?;
        out.push(views::application_view(&mut conn, &app, role, t).await?);
    }
    Ok(out)
}
