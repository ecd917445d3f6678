//! Personal-data retention: finding and erasing the contact and national ID of applications
//! whose purpose has ended (docs/OPERATIONS.md, "Personal data").

use proto::Status;
use sqlx::AnyConnection;

/// Applications not erased yet that were cancelled (A9) at or before `before`, or whose
/// certificate (their own, or the one they acted on) expired at or before `before`.
pub async fn due(
    conn: &mut AnyConnection,
    before: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let q = sqlx::query(
        "SELECT a.id FROM applications a WHERE a.personal_data_erased_at IS NULL AND ( \
         (a.status = $1 AND a.updated_at <= $2) \
         OR EXISTS (SELECT 1 FROM certificates c WHERE c.application_id = a.id \
             AND c.not_after <= $2) \
         OR EXISTS (SELECT 1 FROM certificates c WHERE c.application_id = a.target_id \
             AND c.not_after <= $2)) \
         ORDER BY a.id LIMIT $3",
    )
    .bind(Status::Cancelled.code())
    .bind(before)
    .bind(limit);
    super::ids(conn, q).await
}

/// Blanks the contact (name, phones, e-mail) and the staff national ID of one application and
/// the staff name of its certificate's registration; false when it was erased already.
pub async fn erase(conn: &mut AnyConnection, id: i64, at: i64) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE applications SET contact_name = '', contact_phone = '', contact_mobile = '', \
         contact_email = '', staff_national_id = '', personal_data_erased_at = $1 \
         WHERE id = $2 AND personal_data_erased_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        sqlx::query(
            "UPDATE registrations SET staff_name = '' WHERE certificate_id IN \
             (SELECT id FROM certificates WHERE application_id = $1)",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(n == 1)
}
