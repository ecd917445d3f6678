//! The CRL lives in the database so every instance serves the same one. It is regenerated,
//! with the next CRL number, in the same transaction as each revoke / hold / release, and
//! on demand when the stored one nears its nextUpdate or was signed by another CA.

use sqlx::{AnyConnection, Row as _};
use time::{Duration, OffsetDateTime};

use super::{DomainError, DomainResult, Services, from_unix};
use crate::db::counters;

/// Sign and store a CRL of every revoked or held certificate. Returns its number.
pub async fn regenerate(
    conn: &mut AnyConnection,
    svc: &Services,
    now: OffsetDateTime,
) -> DomainResult<i64> {
    // The counter row lock orders concurrent regenerations on PostgreSQL; the SELECT below
    // then runs after the earlier transaction committed and sees its change.
    let number = counters::next(conn, "crl").await?;
    let rows = sqlx::query(
        "SELECT serial_hex, status, status_changed_at, not_before FROM certificates \
         WHERE status IN ('revoked', 'suspended') AND cert_der IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let hex: String = r.try_get("serial_hex")?;
        let serial = ca::Serial::from_hex(&hex)
            .ok_or_else(|| DomainError::Internal(format!("bad serial {hex} in the database")))?;
        let status: String = r.try_get("status")?;
        let at: Option<i64> = r.try_get("status_changed_at")?;
        let at = match at {
            Some(t) => t,
            None => r.try_get("not_before")?,
        };
        entries.push(ca::RevokedEntry {
            serial,
            revoked_at: from_unix(at)?,
            // Revocations carry no reason yet (written without a reasonCode).
            reason: if status == "revoked" {
                ca::RevocationReason::Unspecified
            } else {
                ca::RevocationReason::CertificateHold
            },
        });
    }
    let this_update = now.replace_nanosecond(0).unwrap_or(now);
    let crl_number = u64::try_from(number)
        .map_err(|_| DomainError::Internal(format!("bad CRL number {number}")))?;
    let der = svc
        .ca
        .crl(&svc.profile, crl_number, this_update, &entries)?;
    let next_update = this_update + Duration::hours(i64::from(svc.profile.crl_validity_hours));
    sqlx::query(
        "INSERT INTO crls (crl_number, this_update, next_update, ca_fingerprint, der) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(number)
    .bind(this_update.unix_timestamp())
    .bind(next_update.unix_timestamp())
    .bind(svc.ca_fingerprint.clone())
    .bind(der)
    .execute(&mut *conn)
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
    let row = sqlx::query(
        "SELECT next_update, ca_fingerprint, der FROM crls ORDER BY crl_number DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let next_update: i64 = row.try_get("next_update")?;
    let fingerprint: String = row.try_get("ca_fingerprint")?;
    let half = i64::from(svc.profile.crl_validity_hours) * 3600 / 2;
    if fingerprint != svc.ca_fingerprint || next_update - now.unix_timestamp() < half {
        return Ok(None);
    }
    Ok(Some(row.try_get("der")?))
}

/// The CRL to serve (DER), regenerating it first when needed.
pub async fn current(svc: &Services, now: OffsetDateTime) -> DomainResult<Vec<u8>> {
    {
        let mut conn = svc.db.pool.acquire().await?;
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
