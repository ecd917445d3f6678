//! The CRL lives in the database so every instance serves the same one. It is regenerated,
//! with the next CRL number, in the same transaction as each revoke / hold / release (see
//! [`super::transitions::apply`]), and on demand when the stored one nears its nextUpdate or
//! was signed by another CA.

use proto::CertStatus;
use sqlx::AnyConnection;
use time::{Duration, OffsetDateTime};

use super::{DomainError, DomainResult, Services, from_unix};
use crate::db::certificates::Listed;
use crate::db::crls::StoredCrl;
use crate::db::{self, counters};

/// How a stored certificate status appears on the CRL; `None`: not listed. A revocation
/// carries the reason recorded with it (none recorded: written without a reasonCode).
fn listed_as(status: CertStatus, recorded: Option<&str>) -> Option<ca::RevocationReason> {
    use proto::RevocationReason as R;
    match status {
        CertStatus::Revoked => Some(match recorded.and_then(R::from_code) {
            Some(R::KeyCompromise) => ca::RevocationReason::KeyCompromise,
            Some(R::AffiliationChanged) => ca::RevocationReason::AffiliationChanged,
            Some(R::Superseded) => ca::RevocationReason::Superseded,
            Some(R::CessationOfOperation) => ca::RevocationReason::CessationOfOperation,
            // certificateHold is never a revocation's reason (refused when chosen).
            Some(R::CertificateHold) | None => ca::RevocationReason::Unspecified,
        }),
        CertStatus::Suspended => Some(ca::RevocationReason::CertificateHold),
        CertStatus::Valid | CertStatus::Expired => None,
    }
}

/// The certificate's CRL entry (serial, time, reason); `None` when it is not listed. OCSP
/// answers say `revoked` with the same time and reason, so both always agree.
pub(crate) fn revoked_entry(c: &Listed) -> DomainResult<Option<ca::RevokedEntry>> {
    let Some(reason) = listed_as(c.status, c.reason.as_deref()) else {
        return Ok(None);
    };
    let serial = ca::Serial::from_hex(&c.serial_hex).ok_or_else(|| {
        DomainError::Internal(format!("bad serial {} in the database", c.serial_hex))
    })?;
    Ok(Some(ca::RevokedEntry {
        serial,
        revoked_at: from_unix(c.since)?,
        reason,
    }))
}

/// Sign and store a CRL of every revoked or held certificate. Returns its number.
pub async fn regenerate(
    conn: &mut AnyConnection,
    svc: &Services,
    now: OffsetDateTime,
) -> DomainResult<i64> {
    // The counter row lock orders concurrent regenerations on PostgreSQL; the SELECT below
    // then runs after the earlier transaction committed and sees its change.
    let number = counters::next(conn, "crl").await?;
    let on_crl: Vec<CertStatus> = CertStatus::ALL
        .iter()
        .copied()
        .filter(|s| listed_as(*s, None).is_some())
        .collect();
    let listed = db::certificates::issued_in(conn, &on_crl).await?;
    let mut entries = Vec::with_capacity(listed.len());
    for c in &listed {
        entries.push(revoked_entry(c)?.ok_or_else(|| {
            DomainError::Internal(format!("{} is not a CRL status", c.status.code()))
        })?);
    }
    let this_update = now.replace_nanosecond(0).unwrap_or(now);
    let crl_number = u64::try_from(number)
        .map_err(|_| DomainError::Internal(format!("bad CRL number {number}")))?;
    let der = svc
        .ca
        .crl(&svc.profile, crl_number, this_update, &entries)?;
    let next_update = this_update + Duration::hours(i64::from(svc.profile.crl_validity_hours));
    db::crls::insert(
        conn,
        &StoredCrl {
            crl_number: number,
            this_update: this_update.unix_timestamp(),
            next_update: next_update.unix_timestamp(),
            ca_fingerprint: svc.ca_fingerprint.clone(),
            der,
        },
    )
    .await?;
    Ok(number)
}

/// Latest stored CRL if it is still good for at least half its validity and was signed by
/// the current CA.
async fn fresh(
    conn: &mut AnyConnection,
    svc: &Services,
    now: OffsetDateTime,
) -> DomainResult<Option<Vec<u8>>> {
    let Some(crl) = db::crls::latest(conn).await? else {
        return Ok(None);
    };
    let half = i64::from(svc.profile.crl_validity_hours) * 3600 / 2;
    if crl.ca_fingerprint != svc.ca_fingerprint || crl.next_update - now.unix_timestamp() < half {
        return Ok(None);
    }
    Ok(Some(crl.der))
}

/// The CRL to serve (DER), regenerating it first when needed.
pub async fn current(svc: &Services, now: OffsetDateTime) -> DomainResult<Vec<u8>> {
    {
        let mut conn = svc.db.conn().await?;
        if let Some(der) = fresh(&mut conn, svc, now).await? {
            return Ok(der);
        }
    }
    let mut tx = svc.db.write().await?;
    // Another request or instance may have regenerated it while we waited for the lock.
    if let Some(der) = fresh(&mut tx, svc, now).await? {
        tx.commit().await?;
        return Ok(der);
    }
    regenerate(&mut tx, svc, now).await?;
    let der = fresh(&mut tx, svc, now)
        .await?
        .ok_or_else(|| DomainError::Internal("CRL missing right after signing".into()))?;
    tx.commit().await?;
    Ok(der)
}
