//! The `expiry_reminders` table: which expiry reminder of which certificate was queued.

use proto::{ApplicationType, CertStatus, Status};
use sqlx::AnyConnection;

/// Certificates (ids) that expire after `after` and at or before `until`, valid or suspended,
/// with no reminder of `days_before` days or fewer queued yet and no renewal under way.
pub async fn due(
    conn: &mut AnyConnection,
    after: i64,
    until: i64,
    days_before: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let q = sqlx::query(
        "SELECT c.id FROM certificates c \
         WHERE c.cert_der IS NOT NULL AND c.status IN ($1, $2) \
         AND c.not_after > $3 AND c.not_after <= $4 \
         AND NOT EXISTS (SELECT 1 FROM expiry_reminders e \
             WHERE e.certificate_id = c.id AND e.days_before <= $5) \
         AND NOT EXISTS (SELECT 1 FROM applications r WHERE r.target_id = c.application_id \
             AND r.app_type = $6 AND r.status <> $7) \
         ORDER BY c.not_after LIMIT $8",
    )
    .bind(CertStatus::Valid.code())
    .bind(CertStatus::Suspended.code())
    .bind(after)
    .bind(until)
    .bind(days_before)
    .bind(ApplicationType::Renew.code())
    .bind(Status::Cancelled.code())
    .bind(limit);
    super::ids(conn, q).await
}

/// Records the reminder; false when it was recorded already (by another run or instance).
pub async fn claim(
    conn: &mut AnyConnection,
    certificate_id: i64,
    days_before: i64,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "INSERT INTO expiry_reminders (certificate_id, days_before, queued_at) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(certificate_id)
    .bind(days_before)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}
