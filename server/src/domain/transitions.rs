//! Every status transition of the portal, in two tables, and the one function that applies
//! them.
//!
//! [`APPLICATIONS`] moves an application through 10 → 20 → A0 or 10 → A9 (DC02);
//! [`CERTIFICATES`] moves an issued certificate between valid, suspended (certificateHold)
//! and revoked. A row says in which states an event may happen (`from`), the state it leads
//! to (`to`), who may fire it (`who`), the mail it queues, the audit action it records, and
//! the button ([`Action`]) it puts on the page. Rows whose `to` is `Same` change no status:
//! they still decide who may do what, when, and which buttons the pages show.
//!
//! [`apply`] runs one row inside the caller's write transaction: it checks the state and the
//! caller, runs the conditional UPDATE (zero rows means someone else moved it first, answered
//! as `invalid_transition`), re-signs the CRL when a certificate's status changed, and
//! writes the audit row and the outbox row. [`actions`] derives the `actions` of an
//! `ApplicationView` from the same rows, so the page shows exactly the buttons that work.
//! Effects on other tables (the bill, the certificate request, the registration) are the
//! calling domain module's, in the same transaction.

use mailer::MailKind;
use proto::{Action, CertStatus, Lang, Status};
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::notify::{self, Extra};
use super::{Actor, DomainError, DomainResult, Services, audit, crl, ocsp};
use crate::db::applications::AppRow;
use crate::db::certificates::CertRow;
use crate::db::{applications, certificates, registrations};

/// What an operator's role must grant for an operator to fire an event. Roles map to duties
/// (cashier: payments; officer: holds and revocation; admin: all; auditor: none); see
/// [`Actor::has_duty`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Recording payments and importing bank files.
    Payments,
    /// Placing and lifting holds (暫禁 / 解禁).
    Holds,
    /// Revoking certificates (註銷).
    Revocation,
}

/// One kind of caller that may fire an event; a row lists every kind that may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// An applicant of the company the application or certificate belongs to.
    Owner,
    /// An applicant of the company that placed the certificate's current hold (a hold placed
    /// by an operator admits no applicant). Needs who placed the hold in [`Context`].
    HoldPlacer,
    /// An operator whose role grants the duty.
    Operator(Duty),
    /// A background job.
    System,
}

/// Who placed a certificate's current hold, as `certificates.hold_placed_by` records it
/// (`company:<tax id>` or `operator:<username>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placer<'a> {
    Company(&'a str),
    Operator,
}

impl<'a> Placer<'a> {
    pub fn parse(stored: &'a str) -> Option<Placer<'a>> {
        match stored.split_once(':') {
            Some(("company", tax_id)) => Some(Placer::Company(tax_id)),
            Some(("operator", _)) => Some(Placer::Operator),
            _ => None,
        }
    }

    /// What to record for a hold `actor` places (jobs place none: recorded as themselves,
    /// which admits no applicant).
    pub fn record(actor: &Actor) -> String {
        match actor {
            Actor::Applicant { tax_id } => format!("company:{tax_id}"),
            Actor::Operator { username, .. } => format!("operator:{username}"),
            Actor::System(job) => format!("system:{job}"),
        }
    }
}

/// The facts about the subject that the `who` column is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Tax ID of the company the application or certificate belongs to.
    pub owner: &'a str,
    /// Who placed the current hold, where recorded.
    pub hold_placed_by: Option<Placer<'a>>,
}

impl Party {
    pub fn admits(self, actor: &Actor, ctx: &Context<'_>) -> bool {
        match (self, actor) {
            (Party::Owner, Actor::Applicant { tax_id }) => tax_id == ctx.owner,
            (Party::HoldPlacer, Actor::Applicant { tax_id }) => {
                ctx.hold_placed_by == Some(Placer::Company(tax_id))
            }
            (Party::Operator(duty), Actor::Operator { .. }) => actor.has_duty(duty),
            (Party::System, Actor::System(_)) => true,
            _ => false,
        }
    }
}

impl<'a> Context<'a> {
    /// The context of an application's rows.
    pub fn of_app(app: &'a AppRow) -> Context<'a> {
        Context {
            owner: &app.tax_id,
            hold_placed_by: None,
        }
    }

    /// The context of a certificate's rows, with who placed its current hold.
    pub fn of_cert(cert: &'a CertRow) -> Context<'a> {
        Context {
            owner: &cert.tax_id,
            hold_placed_by: cert.hold_placed_by.as_deref().and_then(Placer::parse),
        }
    }
}

/// Whether any of `who` admits `actor`.
pub fn admits(who: &[Party], actor: &Actor, ctx: &Context<'_>) -> bool {
    who.iter().any(|p| p.admits(actor, ctx))
}

/// The states an event may start from.
#[derive(Debug, Clone, Copy)]
pub enum Before<S: 'static> {
    /// The event creates the row.
    Nothing,
    In(&'static [S]),
}

/// Where an event leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After<S> {
    /// No status change.
    Same,
    Becomes(S),
}

/// A condition beyond the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Always,
    /// The certificate is not registered yet (a second registration is a `conflict`).
    NotRegistered,
}

#[derive(Debug, Clone, Copy)]
pub struct Row<S: 'static, E> {
    pub from: Before<S>,
    pub event: E,
    pub to: After<S>,
    pub who: &'static [Party],
    pub mail: Option<MailKind>,
    pub audit: Option<&'static str>,
    pub button: Option<Action>,
    pub guard: Guard,
    /// The CRL reasonCode a revocation by this row carries (`None`: unspecified).
    pub crl_reason: Option<proto::RevocationReason>,
}

/// Events of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEvent {
    /// A new or renew application is submitted and billed.
    Submit,
    /// A revoke, suspend or unsuspend request is recorded (acting on the target at once).
    Request,
    /// A modify request is recorded (changing the target's company and contact data).
    Change,
    /// The payment slip is printed.
    PrintSlip,
    /// The fee is paid.
    Pay,
    /// The CSR is signed.
    Issue,
    /// Unpaid after the payment period.
    Expire,
    /// The applicant withdraws an unpaid application (its bill becomes void).
    Withdraw,
}

/// Events of an issued certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertEvent {
    Download,
    Register,
    /// A modify request names it as its target.
    Modify,
    /// A renew request names it as its target.
    Renew,
    Revoke,
    Suspend,
    Unsuspend,
    /// The renewal's certificate replaced it: registered by the owner, or the renewal grace
    /// period ended (the `renewal` job). Revoked with reasonCode superseded.
    Supersede,
}

const OWNER: &[Party] = &[Party::Owner];
const PAYMENTS: &[Party] = &[Party::Operator(Duty::Payments)];
const SYSTEM: &[Party] = &[Party::System];
const OWNER_OR_REVOCATION: &[Party] = &[Party::Owner, Party::Operator(Duty::Revocation)];
const OWNER_OR_HOLDS: &[Party] = &[Party::Owner, Party::Operator(Duty::Holds)];
const OWNER_OR_SYSTEM: &[Party] = &[Party::Owner, Party::System];
/// A hold is lifted by the company that placed it, or by an operator with the duty: an
/// operator's hold admits no applicant.
const PLACER_OR_HOLDS: &[Party] = &[Party::HoldPlacer, Party::Operator(Duty::Holds)];

const fn row<S: Copy, E: Copy>(
    from: Before<S>,
    event: E,
    to: After<S>,
    who: &'static [Party],
    mail: Option<MailKind>,
    audit: Option<&'static str>,
    button: Option<Action>,
) -> Row<S, E> {
    Row {
        from,
        event,
        to,
        who,
        mail,
        audit,
        button,
        guard: Guard::Always,
        crl_reason: None,
    }
}

use After::{Becomes, Same};
use Before::{In, Nothing};

/// DC02 application statuses. A row's order is the order of its button on the page.
#[rustfmt::skip]
pub const APPLICATIONS: &[Row<Status, AppEvent>] = &[
    //  from                        event                 to                           who       mail                         audit                          button
    row(Nothing,                    AppEvent::Submit,    Becomes(Status::Submitted),  OWNER,    Some(MailKind::Submitted),   Some("application.submit"),   None),
    row(Nothing,                    AppEvent::Request,   Becomes(Status::Completed),  OWNER,    None,                        Some("application.submit"),   None),
    row(Nothing,                    AppEvent::Change,    Becomes(Status::Completed),  OWNER,    None,                        Some("application.modify"),   None),
    row(In(&[Status::Submitted]),   AppEvent::PrintSlip, Same,                        OWNER,    None,                        None,                         Some(Action::PrintSlip)),
    row(In(&[Status::Submitted]),   AppEvent::Pay,       Becomes(Status::Paid),       PAYMENTS, Some(MailKind::Paid),        Some("payment.record"),       Some(Action::RecordPayment)),
    row(In(&[Status::Paid]),        AppEvent::Issue,     Becomes(Status::Completed),  OWNER,    Some(MailKind::Issued),      Some("certificate.issue"),    Some(Action::Generate)),
    row(In(&[Status::Submitted]),   AppEvent::Expire,    Becomes(Status::Cancelled),  SYSTEM,   Some(MailKind::Cancelled),   Some("application.expire"),   None),
    row(In(&[Status::Submitted]),   AppEvent::Withdraw,  Becomes(Status::Cancelled),  OWNER,    Some(MailKind::Withdrawn),   Some("application.withdraw"), Some(Action::Withdraw)),
];

const ISSUED: &[CertStatus] = &[
    CertStatus::Valid,
    CertStatus::Suspended,
    CertStatus::Revoked,
    CertStatus::Expired,
];
const LIVE: &[CertStatus] = &[CertStatus::Valid, CertStatus::Suspended];
const VALID: &[CertStatus] = &[CertStatus::Valid];
const SUSPENDED: &[CertStatus] = &[CertStatus::Suspended];

/// Issued certificates, by the status the caller sees (`expired` derived from `not_after`:
/// no row leaves it). The applicant's revoke, suspend and unsuspend requests and the
/// operator's direct actions are the same rows. A row's order is the order of its button.
#[rustfmt::skip]
pub const CERTIFICATES: &[Row<CertStatus, CertEvent>] = &[
    //  from           event                   to                             who                  mail                          audit                        button
    row(In(ISSUED),    CertEvent::Download,   Same,                           OWNER,               None,                         None,                        Some(Action::Download)),
    Row { guard: Guard::NotRegistered,
    ..row(In(VALID),   CertEvent::Register,   Same,                           OWNER,               None,                         Some("certificate.register"), Some(Action::Register)) },
    row(In(LIVE),      CertEvent::Modify,     Same,                           OWNER,               None,                         None,                        Some(Action::Change)),
    row(In(VALID),     CertEvent::Renew,      Same,                           OWNER,               None,                         None,                        Some(Action::Renew)),
    row(In(LIVE),      CertEvent::Revoke,     Becomes(CertStatus::Revoked),   OWNER_OR_REVOCATION, Some(MailKind::Revoked),      Some("certificate.revoke"),   Some(Action::Revoke)),
    row(In(VALID),     CertEvent::Suspend,    Becomes(CertStatus::Suspended), OWNER_OR_HOLDS,      Some(MailKind::Suspended),    Some("certificate.suspend"),  Some(Action::Suspend)),
    row(In(SUSPENDED), CertEvent::Unsuspend,  Becomes(CertStatus::Valid),     PLACER_OR_HOLDS,     Some(MailKind::Unsuspended),  Some("certificate.unsuspend"), Some(Action::Unsuspend)),
    Row { crl_reason: Some(proto::RevocationReason::Superseded),
    ..row(In(LIVE),    CertEvent::Supersede,  Becomes(CertStatus::Revoked),   OWNER_OR_SYSTEM,     Some(MailKind::Revoked),      Some("certificate.supersede"), None) },
];

fn find<S, E: PartialEq + std::fmt::Debug>(
    table: &'static [Row<S, E>],
    event: E,
) -> DomainResult<&'static Row<S, E>> {
    table
        .iter()
        .find(|r| r.event == event)
        .ok_or_else(|| DomainError::Internal(format!("no transition row for {event:?}")))
}

pub fn app_row(event: AppEvent) -> DomainResult<&'static Row<Status, AppEvent>> {
    find(APPLICATIONS, event)
}

pub fn cert_row(event: CertEvent) -> DomainResult<&'static Row<CertStatus, CertEvent>> {
    find(CERTIFICATES, event)
}

/// The status a creating event gives a new application.
pub fn initial_status(event: AppEvent) -> DomainResult<Status> {
    match app_row(event)? {
        Row {
            from: Nothing,
            to: Becomes(s),
            ..
        } => Ok(*s),
        _ => Err(DomainError::Internal(format!(
            "{event:?} does not create an application"
        ))),
    }
}

/// Application statuses some event still leads out of (an application there is "open").
pub fn open_statuses() -> Vec<Status> {
    Status::ALL
        .iter()
        .copied()
        .filter(|s| {
            APPLICATIONS
                .iter()
                .any(|r| matches!(r.to, Becomes(_)) && starts_in(&r.from, *s))
        })
        .collect()
}

fn starts_in<S: PartialEq + Copy>(from: &Before<S>, state: S) -> bool {
    matches!(from, In(states) if states.contains(&state))
}

/// One transition to apply or check.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// An application event; for creating events `app` is the row just inserted.
    App { event: AppEvent, app: &'a AppRow },
    /// A certificate event; `issuing` is the application the certificate was issued for.
    Cert {
        event: CertEvent,
        cert: &'a CertRow,
        issuing: &'a AppRow,
    },
}

/// What the audit row and the mail say besides what the row itself decides.
#[derive(Debug, Default)]
pub struct Note<'a> {
    /// Audit detail; `from` and `to` are added for status changes (and `crl_number` when the
    /// CRL was re-signed).
    pub detail: serde_json::Value,
    pub certificate_serial: Option<&'a str>,
    pub csr_sha256: Option<&'a str>,
    /// The application the audit row is filed under (default: the step's application, or
    /// the issuing application of a certificate).
    pub audit_serial: Option<&'a str>,
    /// Whose contact gets the mail (default as for `audit_serial`).
    pub mail_to: Option<&'a AppRow>,
    pub mail: Extra,
    /// The RFC 5280 reason of a revocation (absent: unspecified); holds are always
    /// `certificateHold`.
    pub reason_code: Option<proto::RevocationReason>,
}

/// What a certificate's new status records: the CRL reason and, for a hold, who placed it.
fn status_mark(
    to: CertStatus,
    actor: &Actor,
    reason: Option<proto::RevocationReason>,
) -> (Option<&'static str>, Option<String>) {
    match to {
        CertStatus::Suspended => (
            Some(proto::RevocationReason::CertificateHold.code()),
            Some(Placer::record(actor)),
        ),
        CertStatus::Revoked => (reason.map(|r| r.code()), None),
        CertStatus::Valid | CertStatus::Expired => (None, None),
    }
}

fn event_name<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}").to_lowercase()
}

fn app_refusal(event: AppEvent, status: Status) -> DomainError {
    DomainError::transition(format!(
        "{} is not possible while the application is in status {} ({})",
        event_name(event),
        status.code(),
        status.label(Lang::En)
    ))
}

fn cert_refusal(event: CertEvent, shown: CertStatus) -> DomainError {
    DomainError::transition(format!(
        "{} is not possible while the certificate is {}",
        event_name(event),
        shown.label(Lang::En).to_lowercase()
    ))
}

fn forbidden() -> DomainError {
    DomainError::Forbidden("you may not do this to this application or certificate")
}

/// Checks a step without changing anything: the state, the caller, the guard. Callers use it
/// to refuse before creating anything; [`apply`] runs it again inside the transaction.
pub async fn check(
    conn: &mut AnyConnection,
    actor: &Actor,
    step: Step<'_>,
    now: OffsetDateTime,
) -> DomainResult<()> {
    match step {
        Step::App { event, app } => {
            let row = app_row(event)?;
            if let In(states) = row.from
                && !states.contains(&app.status)
            {
                return Err(app_refusal(event, app.status));
            }
            if !admits(row.who, actor, &Context::of_app(app)) {
                return Err(forbidden());
            }
            Ok(())
        }
        Step::Cert { event, cert, .. } => {
            let row = cert_row(event)?;
            if cert.cert_der.is_none() {
                return Err(DomainError::transition(
                    "the certificate has not been issued yet",
                ));
            }
            let shown = cert.shown_status(now.unix_timestamp());
            if !starts_in(&row.from, shown) {
                return Err(cert_refusal(event, shown));
            }
            if !admits(row.who, actor, &Context::of_cert(cert)) {
                return Err(forbidden());
            }
            match row.guard {
                Guard::Always => Ok(()),
                Guard::NotRegistered => {
                    if registrations::exists(conn, cert.id).await? {
                        Err(DomainError::Conflict(
                            "the certificate is already registered".into(),
                        ))
                    } else {
                        Ok(())
                    }
                }
            }
        }
    }
}

/// Applies one step inside the caller's write transaction: checks it, moves the status with a
/// conditional UPDATE, re-signs the CRL after a certificate's status changed, and writes the
/// audit row and the outbox row the table names.
pub async fn apply(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    step: Step<'_>,
    mut note: Note<'_>,
    now: OffsetDateTime,
) -> DomainResult<()> {
    check(conn, actor, step, now).await?;
    let t = now.unix_timestamp();
    let lost = || DomainError::transition("the status changed meanwhile; reload and try again");
    let (mail, audit_action, subject) = match step {
        Step::App { event, app } => {
            let row = app_row(event)?;
            if let (In(_), Becomes(to)) = (row.from, row.to) {
                if !applications::move_status(conn, app.id, app.status, to, t).await? {
                    return Err(lost());
                }
                add(&mut note.detail, "from", app.status.code().into());
                add(&mut note.detail, "to", to.code().into());
            }
            (row.mail, row.audit, app)
        }
        Step::Cert {
            event,
            cert,
            issuing,
        } => {
            let row = cert_row(event)?;
            if let Becomes(to) = row.to {
                let (reason, placed_by) =
                    status_mark(to, actor, note.reason_code.or(row.crl_reason));
                let mark = certificates::StatusMark {
                    reason,
                    hold_placed_by: placed_by.as_deref(),
                };
                if !certificates::move_status(conn, cert.id, cert.status, to, mark, t).await? {
                    return Err(lost());
                }
                if let Some(r) = reason {
                    add(&mut note.detail, "reason_code", r.into());
                }
                add(&mut note.detail, "from", cert.status.code().into());
                add(&mut note.detail, "to", to.code().into());
                // Revoked and held certificates are on the CRL: every change re-signs it.
                let number = crl::regenerate(conn, svc, now).await?;
                add(&mut note.detail, "crl_number", number.into());
                // And its pre-produced OCSP answer, in the same transaction.
                if cert.cert_der.is_some() {
                    ocsp::produce(conn, svc, &cert.serial_hex, now).await?;
                }
            }
            (row.mail, row.audit, issuing)
        }
    };
    if let Some(action) = audit_action {
        audit::record(
            conn,
            actor,
            audit::Entry {
                action,
                application_serial: Some(note.audit_serial.unwrap_or(&subject.serial)),
                certificate_serial: note.certificate_serial,
                csr_sha256: note.csr_sha256,
                detail: note.detail,
            },
            now,
        )
        .await?;
    }
    if let Some(kind) = mail {
        notify::queue(
            conn,
            svc,
            kind,
            note.mail_to.unwrap_or(subject),
            note.mail,
            now,
        )
        .await?;
    }
    Ok(())
}

fn add(detail: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if detail.is_null() {
        *detail = serde_json::json!({});
    }
    if let Some(obj) = detail.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
}

/// The buttons `actor` gets for `app` now: every row that starts in the current state, whose
/// guard holds and whose `who` admits the actor. Certificate rows apply to the issuing
/// application once its certificate exists; `registered` says whether it is registered.
pub fn actions(
    actor: &Actor,
    app: &AppRow,
    cert: Option<(&CertRow, bool)>,
    now: i64,
) -> Vec<Action> {
    let mut out = Vec::new();
    let ctx = Context::of_app(app);
    for r in APPLICATIONS {
        if let Some(b) = r.button
            && starts_in(&r.from, app.status)
            && admits(r.who, actor, &ctx)
        {
            out.push(b);
        }
    }
    let issued = cert.filter(|(c, _)| {
        app.app_type.issues_certificate() && app.status == Status::Completed && c.cert_der.is_some()
    });
    if let Some((cert, registered)) = issued {
        let shown = cert.shown_status(now);
        let ctx = Context::of_cert(cert);
        for r in CERTIFICATES {
            let guard = match r.guard {
                Guard::Always => true,
                Guard::NotRegistered => !registered,
            };
            if let Some(b) = r.button
                && guard
                && starts_in(&r.from, shown)
                && admits(r.who, actor, &ctx)
            {
                out.push(b);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_exactly_one_row() {
        for e in [
            AppEvent::Submit,
            AppEvent::Request,
            AppEvent::Change,
            AppEvent::PrintSlip,
            AppEvent::Pay,
            AppEvent::Issue,
            AppEvent::Expire,
            AppEvent::Withdraw,
        ] {
            assert_eq!(
                APPLICATIONS.iter().filter(|r| r.event == e).count(),
                1,
                "{e:?}"
            );
        }
        for e in [
            CertEvent::Download,
            CertEvent::Register,
            CertEvent::Modify,
            CertEvent::Renew,
            CertEvent::Revoke,
            CertEvent::Suspend,
            CertEvent::Unsuspend,
            CertEvent::Supersede,
        ] {
            assert_eq!(
                CERTIFICATES.iter().filter(|r| r.event == e).count(),
                1,
                "{e:?}"
            );
        }
    }

    #[test]
    fn the_dc02_flow() {
        assert_eq!(initial_status(AppEvent::Submit).unwrap(), Status::Submitted);
        assert_eq!(
            initial_status(AppEvent::Request).unwrap(),
            Status::Completed
        );
        assert!(initial_status(AppEvent::Pay).is_err());
        // Only the owner withdraws, only while unpaid, and it ends in A9.
        let w = app_row(AppEvent::Withdraw).unwrap();
        assert!(starts_in(&w.from, Status::Submitted));
        assert!(!starts_in(&w.from, Status::Paid));
        assert_eq!(w.to, Becomes(Status::Cancelled));
        assert_eq!(w.who, OWNER);
        assert_eq!(open_statuses(), vec![Status::Submitted, Status::Paid]);
        // Final states have no way out; expired certificates none either.
        for r in CERTIFICATES.iter().filter(|r| matches!(r.to, Becomes(_))) {
            assert!(!starts_in(&r.from, CertStatus::Revoked), "{:?}", r.event);
            assert!(!starts_in(&r.from, CertStatus::Expired), "{:?}", r.event);
        }
    }

    #[test]
    fn status_changes_are_audited_and_buttons_are_distinct() {
        for r in APPLICATIONS {
            if matches!(r.to, Becomes(_)) {
                assert!(r.audit.is_some(), "{:?}", r.event);
            }
        }
        for r in CERTIFICATES {
            if matches!(r.to, Becomes(_)) {
                assert!(r.audit.is_some() && r.mail.is_some(), "{:?}", r.event);
            }
        }
        let mut buttons: Vec<Action> = APPLICATIONS
            .iter()
            .filter_map(|r| r.button)
            .chain(CERTIFICATES.iter().filter_map(|r| r.button))
            .collect();
        let n = buttons.len();
        buttons.dedup();
        assert_eq!(buttons.len(), n);
    }

    #[test]
    fn parties() {
        let alice = Actor::Applicant {
            tax_id: "12345675".into(),
        };
        let bob = Actor::Applicant {
            tax_id: "04595257".into(),
        };
        let ops = Actor::Operator {
            username: "ops".into(),
            role: proto::OperatorRole::Admin,
        };
        let job = Actor::System("expiry");
        let ctx = Context {
            owner: "12345675",
            hold_placed_by: Some(Placer::Company("12345675")),
        };
        assert!(Party::Owner.admits(&alice, &ctx));
        assert!(!Party::Owner.admits(&bob, &ctx));
        assert!(!Party::Owner.admits(&ops, &ctx));
        assert!(Party::HoldPlacer.admits(&alice, &ctx));
        assert!(!Party::HoldPlacer.admits(&bob, &ctx));
        let by_operator = Context {
            hold_placed_by: Some(Placer::Operator),
            ..ctx
        };
        assert!(!Party::HoldPlacer.admits(&alice, &by_operator));
        assert!(Party::Operator(Duty::Holds).admits(&ops, &ctx));
        assert!(!Party::Operator(Duty::Holds).admits(&alice, &ctx));
        assert!(Party::System.admits(&job, &ctx));
        assert!(!Party::System.admits(&ops, &ctx));
    }
}
