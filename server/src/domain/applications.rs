//! Applications: creation for every type, reads and searches within the caller's company.
//!
//! new / renew:  create → 10 (bill issued) → 20 (paid) → A0 (certificate signed), or → A9
//! modify / revoke / suspend / unsuspend:  create → A0 at once, acting on the target's
//! certificate. Which of these a caller may do, and when, is in [`transitions`].

use proto::api::{
    ApplicationForm, ApplicationQuery, ApplicationView, CompanyInput, ContactInput, HistoryEntry,
    Page, page_or_last, page_size_or_default,
};
use proto::validate::FieldCode;
use proto::{ApplicationType, BusinessType, CertKind, CustomsOffice, Status};
use sha2::{Digest as _, Sha256};
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::notify::Extra;
use super::transitions::{self, AppEvent, CertEvent, Note, Step};
use super::{
    Actor, DomainError, DomainResult, Services, bills, certificates, parse_date, taipei_date,
    taipei_midnight, views,
};
use crate::db::applications::{AppRow, NewApplication, Search};
use crate::db::{self, Lock, counters, requests};

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

/// An application by id (it exists: ids come from other rows).
pub async fn by_id(conn: &mut AnyConnection, id: i64) -> DomainResult<AppRow> {
    db::applications::by_id(conn, id)
        .await?
        .ok_or(DomainError::NotFound("application"))
}

/// An application by serial, only within `company` when given. Another company's serial is
/// `not_found`, the same as an unknown one, so serials cannot be probed.
pub async fn by_serial(
    conn: &mut AnyConnection,
    serial: &str,
    company: Option<&str>,
    lock: Lock,
) -> DomainResult<AppRow> {
    let app = db::applications::by_serial(conn, serial, lock)
        .await?
        .ok_or(DomainError::NotFound("application"))?;
    match company {
        Some(tax_id) if tax_id != app.tax_id => Err(DomainError::NotFound("application")),
        _ => Ok(app),
    }
}

/// The form as it is stored: with a company name the login proved (the IC-card
/// certificate's), that name replaces whatever the form says, so neither a new application
/// nor a 修改 can put another company's name into a certificate or the records.
pub fn with_verified_name(form: &ApplicationForm, verified_name: Option<&str>) -> ApplicationForm {
    let mut form = form.clone();
    if let Some(name) = verified_name.map(str::trim).filter(|n| !n.is_empty()) {
        form.company.name = name.to_owned();
    }
    form
}

/// Create an application for the applicant's company (`tax_id` comes from the session;
/// `verified_name` is the company name the card certificate proves, if any).
///
/// With an idempotency key, a repeat of the same request (same company, key and form) returns
/// the application the first one made, whether the first is finished or still running in
/// another transaction; the same key with a different form is a conflict.
pub async fn create(
    svc: &Services,
    tax_id: &str,
    verified_name: Option<&str>,
    form: &ApplicationForm,
    idempotency_key: Option<&str>,
    now: OffsetDateTime,
) -> DomainResult<Created> {
    let form = &with_verified_name(form, verified_name);
    proto::validate::application(form).map_err(DomainError::Validation)?;
    if proto::validate::tax_id(tax_id).is_err() {
        return Err(DomainError::Forbidden("the session has no valid tax ID"));
    }
    let actor = Actor::Applicant {
        tax_id: tax_id.to_owned(),
    };
    let request = match idempotency_key {
        Some(key) => {
            check_idempotency_key(key)?;
            Some((key, form_hash(form)?))
        }
        None => None,
    };
    match create_once(svc, &actor, form, request.as_ref(), now).await {
        // Another request with this key committed first while ours waited on its row.
        Err(DomainError::Db(e)) if request.is_some() && is_unique_violation(&e) => {
            let mut conn = svc.db.conn().await?;
            match replay(&mut conn, &actor, request.as_ref(), now).await? {
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
    actor: &Actor,
    form: &ApplicationForm,
    request: Option<&(&str, String)>,
    now: OffsetDateTime,
) -> DomainResult<Created> {
    let tax_id = actor.company().unwrap_or_default();
    let mut tx = svc.db.write().await?;
    if let Some(view) = replay(&mut tx, actor, request, now).await? {
        tx.rollback().await?;
        return Ok(Created {
            view,
            replayed: true,
        });
    }
    check_daily_limit(&mut tx, svc.applications_per_day, tax_id, now).await?;
    let app = match form.app_type {
        ApplicationType::New => {
            let attrs = CertAttrs::of_form(form)?;
            submit(&mut tx, svc, actor, form, None, &attrs, now).await?
        }
        _ => create_targeted(&mut tx, svc, actor, form, now).await?,
    };
    if let Some((key, hash)) = request {
        requests::insert(&mut tx, tax_id, key, hash, app.id, now.unix_timestamp()).await?;
    }
    let view = views::application_view(&mut tx, &app, actor, now.unix_timestamp()).await?;
    tx.commit().await?;
    Ok(Created {
        view,
        replayed: false,
    })
}

/// Each application a company files today counts on a per-company, per-day counter; past
/// the limit the transaction (and with it the count) is rolled back. The counter row's lock
/// makes concurrent requests of one company queue, so instances cannot overshoot together.
async fn check_daily_limit(
    conn: &mut AnyConnection,
    limit: u32,
    tax_id: &str,
    now: OffsetDateTime,
) -> DomainResult<()> {
    if limit == 0 {
        return Ok(());
    }
    let day = taipei_date(now);
    let n = counters::next(conn, &format!("applications_on:{day}:{tax_id}")).await?;
    if n > i64::from(limit) {
        return Err(DomainError::ApplicationLimit(limit));
    }
    Ok(())
}

/// The application an earlier request with this key made, or `None` for a new key.
async fn replay(
    conn: &mut AnyConnection,
    actor: &Actor,
    request: Option<&(&str, String)>,
    now: OffsetDateTime,
) -> DomainResult<Option<ApplicationView>> {
    let Some((key, hash)) = request else {
        return Ok(None);
    };
    let tax_id = actor.company().unwrap_or_default();
    let Some(earlier) = requests::find(conn, tax_id, key).await? else {
        return Ok(None);
    };
    if earlier.request_hash != *hash {
        return Err(DomainError::IdempotencyKeyReused);
    }
    let app = by_id(conn, earlier.application_id).await?;
    Ok(Some(
        views::application_view(conn, &app, actor, now.unix_timestamp()).await?,
    ))
}

fn form_hash(form: &ApplicationForm) -> DomainResult<String> {
    let json = serde_json::to_vec(form).map_err(|e| DomainError::Internal(e.to_string()))?;
    Ok(super::hex(&Sha256::digest(&json)))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The certificate attributes of an application: from a `new` form, or copied from the
/// target by every other type.
struct CertAttrs {
    customs_office: CustomsOffice,
    business_type: BusinessType,
    box_number: String,
    cert_kind: CertKind,
    staff_code: String,
    staff_national_id: String,
}

impl CertAttrs {
    fn of_form(form: &ApplicationForm) -> DomainResult<CertAttrs> {
        let missing = |f: &str| DomainError::field(f, FieldCode::Required);
        let cert_kind = form.cert_kind.ok_or_else(|| missing("cert_kind"))?;
        Ok(CertAttrs {
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
        })
    }

    fn of_target(t: &AppRow) -> CertAttrs {
        CertAttrs {
            customs_office: t.customs_office,
            business_type: t.business_type,
            box_number: t.box_number.clone(),
            cert_kind: t.cert_kind,
            staff_code: t.staff_code.clone(),
            staff_national_id: t.staff_national_id.clone(),
        }
    }
}

/// The form's company and contact data as stored (names and e-mail trimmed).
fn company_of(form: &ApplicationForm) -> (CompanyInput, ContactInput) {
    let c = &form.company;
    let k = &form.contact;
    (
        CompanyInput {
            name: c.name.trim().to_owned(),
            responsible_person: c.responsible_person.trim().to_owned(),
            ..c.clone()
        },
        ContactInput {
            name: k.name.trim().to_owned(),
            email: k.email.trim().to_owned(),
            ..k.clone()
        },
    )
}

/// What a creating event inserts.
struct Draft<'a> {
    form: &'a ApplicationForm,
    event: AppEvent,
    target_id: Option<i64>,
    attrs: &'a CertAttrs,
    cert_name: Option<String>,
}

/// Inserts the application a creating event makes, in the status the table gives it.
async fn insert(
    conn: &mut AnyConnection,
    tax_id: &str,
    d: Draft<'_>,
    now: OffsetDateTime,
) -> DomainResult<AppRow> {
    let Draft {
        form,
        event,
        target_id,
        attrs,
        cert_name,
    } = d;
    let serial = bills::next_application_serial(conn, now).await?;
    let (company, contact) = company_of(form);
    let id = db::applications::insert(
        conn,
        NewApplication {
            serial,
            tax_id,
            app_type: form.app_type,
            status: transitions::initial_status(event)?,
            target_id,
            company: &company,
            contact: &contact,
            customs_office: attrs.customs_office,
            business_type: attrs.business_type,
            box_number: &attrs.box_number,
            cert_kind: attrs.cert_kind,
            staff_code: &attrs.staff_code,
            staff_national_id: &attrs.staff_national_id,
            cert_name,
            reason: form.reason.trim(),
            at: now.unix_timestamp(),
        },
    )
    .await?;
    by_id(conn, id).await
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

/// A new or renew application: numbered certificate name, the row in status 10, its bill,
/// audit and mail.
async fn submit(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    form: &ApplicationForm,
    target_id: Option<i64>,
    attrs: &CertAttrs,
    now: OffsetDateTime,
) -> DomainResult<AppRow> {
    let tax_id = actor.company().unwrap_or_default();
    let cert_name = next_cert_name(conn, tax_id, &attrs.box_number).await?;
    let draft = Draft {
        form,
        event: AppEvent::Submit,
        target_id,
        attrs,
        cert_name: Some(cert_name),
    };
    let app = insert(conn, tax_id, draft, now).await?;
    let bill = bills::create(conn, app.id, now).await?;
    transitions::apply(
        conn,
        svc,
        actor,
        Step::App {
            event: AppEvent::Submit,
            app: &app,
        },
        Note {
            detail: serde_json::json!({
                "type": app.app_type.code(),
                "status": app.status.code(),
                "bill_no": bill.bill_no,
                "amount": bill.amount,
                "cert_name": app.cert_name,
            }),
            mail: Extra {
                bill_no: Some(bill.bill_no.clone()),
                amount: Some(bill.amount),
                due_on: super::from_unix(bill.due_at).ok().map(taipei_date),
                ..Extra::default()
            },
            ..Note::default()
        },
        now,
    )
    .await?;
    Ok(app)
}

async fn create_targeted(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    form: &ApplicationForm,
    now: OffsetDateTime,
) -> DomainResult<AppRow> {
    let tax_id = actor.company().unwrap_or_default();
    let target_serial = form.target.as_deref().unwrap_or_default().trim();
    let target = by_serial(conn, target_serial, Some(tax_id), svc.db.for_update()).await?;
    if !target.app_type.issues_certificate() {
        return Err(DomainError::field("target", FieldCode::NotAllowed));
    }
    let no_certificate =
        || DomainError::transition("the target application has no issued certificate");
    if target.status != Status::Completed {
        return Err(no_certificate());
    }
    let cert = db::certificates::of_application(conn, target.id)
        .await?
        .filter(|c| c.cert_der.is_some())
        .ok_or_else(no_certificate)?;
    let on_target = |event| Step::Cert {
        event,
        cert: &cert,
        issuing: &target,
    };
    let attrs = CertAttrs::of_target(&target);
    match form.app_type {
        ApplicationType::New => Err(DomainError::Internal("new is not a targeted type".into())),
        ApplicationType::Renew => {
            transitions::check(conn, actor, on_target(CertEvent::Renew), now).await?;
            let open = db::applications::count_targeting(
                conn,
                target.id,
                ApplicationType::Renew,
                &transitions::open_statuses(),
            )
            .await?;
            if open > 0 {
                return Err(DomainError::transition(
                    "a renewal of this certificate is already in progress",
                ));
            }
            submit(conn, svc, actor, form, Some(target.id), &attrs, now).await
        }
        ApplicationType::Modify => {
            transitions::check(conn, actor, on_target(CertEvent::Modify), now).await?;
            let draft = Draft {
                form,
                event: AppEvent::Change,
                target_id: Some(target.id),
                attrs: &attrs,
                cert_name: None,
            };
            let app = insert(conn, tax_id, draft, now).await?;
            let changed = db::applications::update_contact(
                conn,
                target.id,
                Status::Completed,
                &app.company,
                &app.contact,
                now.unix_timestamp(),
            )
            .await?;
            if !changed {
                return Err(DomainError::transition(
                    "the target application changed meanwhile",
                ));
            }
            transitions::apply(
                conn,
                svc,
                actor,
                Step::App {
                    event: AppEvent::Change,
                    app: &app,
                },
                Note {
                    detail: serde_json::json!({
                        "target": target.serial,
                        "status": app.status.code(),
                    }),
                    certificate_serial: Some(&cert.serial_hex),
                    ..Note::default()
                },
                now,
            )
            .await?;
            Ok(app)
        }
        ApplicationType::Revoke | ApplicationType::Suspend | ApplicationType::Unsuspend => {
            let event = match form.app_type {
                ApplicationType::Revoke => CertEvent::Revoke,
                ApplicationType::Suspend => CertEvent::Suspend,
                _ => CertEvent::Unsuspend,
            };
            // Refuse before creating anything, so a refused request leaves no application.
            transitions::check(conn, actor, on_target(event), now).await?;
            certificates::revocation_reason(event, form.reason_code)?;
            let draft = Draft {
                form,
                event: AppEvent::Request,
                target_id: Some(target.id),
                attrs: &attrs,
                cert_name: None,
            };
            let app = insert(conn, tax_id, draft, now).await?;
            transitions::apply(
                conn,
                svc,
                actor,
                Step::App {
                    event: AppEvent::Request,
                    app: &app,
                },
                Note {
                    detail: serde_json::json!({
                        "type": app.app_type.code(),
                        "status": app.status.code(),
                        "target": target.serial,
                    }),
                    certificate_serial: Some(&cert.serial_hex),
                    ..Note::default()
                },
                now,
            )
            .await?;
            certificates::act(
                conn,
                svc,
                actor,
                event,
                &cert,
                &target,
                &form.reason,
                form.reason_code,
                &app,
                now,
            )
            .await?;
            Ok(app)
        }
    }
}

/// One application as `actor` may see it (another company's serial is `not_found`).
pub async fn get(
    svc: &Services,
    actor: &Actor,
    serial: &str,
    now: OffsetDateTime,
) -> DomainResult<ApplicationView> {
    let mut conn = svc.db.conn().await?;
    let app = by_serial(&mut conn, serial, actor.company(), Lock::NONE).await?;
    views::application_view(&mut conn, &app, actor, now.unix_timestamp()).await
}

/// The search `q` asks for: applicants see only their company; `tax_id` and `q` are for
/// operators (ignored for applicants).
fn search_of(actor: &Actor, q: &ApplicationQuery) -> DomainResult<Search> {
    let mut search = Search {
        limit: LIST_LIMIT,
        app_type: q.app_type,
        status: q.status,
        ..Search::default()
    };
    match actor.company() {
        Some(tax_id) => search.tax_id = Some(tax_id.to_owned()),
        None => {
            search.tax_id = q.tax_id.clone().filter(|t| !t.is_empty());
            search.number =
                q.q.as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
        }
    }
    if let Some(from) = q.from.as_deref().filter(|s| !s.is_empty()) {
        let d = parse_date(from).ok_or_else(|| DomainError::field("from", FieldCode::Format))?;
        search.created_from = Some(taipei_midnight(d));
    }
    if let Some(to) = q.to.as_deref().filter(|s| !s.is_empty()) {
        let d = parse_date(to).ok_or_else(|| DomainError::field("to", FieldCode::Format))?;
        let next = d
            .next_day()
            .ok_or_else(|| DomainError::field("to", FieldCode::Format))?;
        search.created_before = Some(taipei_midnight(next));
    }
    Ok(search)
}

async fn views_of(
    conn: &mut AnyConnection,
    rows: &[AppRow],
    actor: &Actor,
    now: OffsetDateTime,
) -> DomainResult<Vec<ApplicationView>> {
    let t = now.unix_timestamp();
    let mut out = Vec::with_capacity(rows.len());
    for app in rows {
        out.push(views::application_view(conn, app, actor, t).await?);
    }
    Ok(out)
}

/// Search, newest first, at most [`LIST_LIMIT`] rows (the operator's grid until it pages).
pub async fn list(
    svc: &Services,
    actor: &Actor,
    q: &ApplicationQuery,
    now: OffsetDateTime,
) -> DomainResult<Vec<ApplicationView>> {
    let search = search_of(actor, q)?;
    let mut conn = svc.db.conn().await?;
    let rows = db::applications::search(&mut conn, &search).await?;
    views_of(&mut conn, &rows, actor, now).await
}

/// One page of the search, newest first, with the total on every page. A page past the
/// end answers the last page, so a grid whose rows went away still shows something.
pub async fn page(
    svc: &Services,
    actor: &Actor,
    q: &ApplicationQuery,
    now: OffsetDateTime,
) -> DomainResult<Page<ApplicationView>> {
    let mut search = search_of(actor, q)?;
    let page_size = page_size_or_default(q.page_size);
    let mut conn = svc.db.conn().await?;
    let total = u64::try_from(db::applications::count(&mut conn, &search).await?).unwrap_or(0);
    let page = page_or_last(q.page, total, page_size);
    search.limit = i64::from(page_size);
    search.offset = i64::from(page - 1) * i64::from(page_size);
    let rows = db::applications::search(&mut conn, &search).await?;
    Ok(Page {
        items: views_of(&mut conn, &rows, actor, now).await?,
        page,
        page_size,
        total,
    })
}

/// 撤回: the applicant withdraws an unpaid application. The `Withdraw` row decides who and
/// when (the owner, in status 10); the application becomes A9, the bill void, and the
/// contact gets the withdrawal mail, in one transaction.
pub async fn withdraw(
    svc: &Services,
    actor: &Actor,
    serial: &str,
    now: OffsetDateTime,
) -> DomainResult<ApplicationView> {
    let mut tx = svc.db.write().await?;
    // Another company's serial is `not_found`, as for reads.
    let found = by_serial(&mut tx, serial, actor.company(), Lock::NONE).await?;
    // The bill first, then the application: the order payments and the expiry job take
    // them in, so a payment racing the withdrawal waits instead of deadlocking.
    let bill = db::bills::of_application(&mut tx, found.id, svc.db.for_update()).await?;
    let app = by_serial(&mut tx, serial, actor.company(), Lock::NONE).await?;
    let bill_no = bill.as_ref().map(|b| b.bill_no.clone());
    transitions::apply(
        &mut tx,
        svc,
        actor,
        Step::App {
            event: AppEvent::Withdraw,
            app: &app,
        },
        Note {
            detail: serde_json::json!({
                "bill_no": bill_no,
                "bill": proto::BillStatus::Void.code(),
            }),
            mail: Extra {
                bill_no,
                ..Extra::default()
            },
            ..Note::default()
        },
        now,
    )
    .await?;
    db::bills::void_unpaid(&mut tx, app.id, now.unix_timestamp()).await?;
    let moved = by_serial(&mut tx, serial, actor.company(), Lock::NONE).await?;
    let view = views::application_view(&mut tx, &moved, actor, now.unix_timestamp()).await?;
    tx.commit().await?;
    Ok(view)
}

/// An application's history from the audit log, oldest first, in the caller's company
/// only: its own rows and those of its certificate (revoke, suspend, register, ...), with
/// who acted as a role.
pub async fn history(
    svc: &Services,
    actor: &Actor,
    serial: &str,
) -> DomainResult<Vec<HistoryEntry>> {
    let mut conn = svc.db.conn().await?;
    let app = by_serial(&mut conn, serial, actor.company(), Lock::NONE).await?;
    let cert = views::certificate_for(&mut conn, &app).await?;
    // A request (revoke, modify, ...) shows its own rows only; the issuing application
    // also shows what later happened to its certificate.
    let cert_serial = cert
        .filter(|_| app.app_type.issues_certificate())
        .map(|c| c.serial_hex);
    let rows = db::audit::history(&mut conn, &app.serial, cert_serial.as_deref()).await?;
    Ok(rows
        .into_iter()
        .map(|(at, actor, action)| HistoryEntry {
            at: super::rfc3339(at),
            action,
            by: super::audit::actor_kind(&actor),
        })
        .collect())
}
