//! Job leases: which instance runs a periodic job this round. Taking a lease is one upsert
//! that only succeeds when the row is free (expired) or already ours, so of several
//! instances racing for a job exactly one gets it.

use sqlx::AnyConnection;

/// Take or renew the lease on `job` for `holder` until `until`; true when `holder` has it.
pub async fn acquire(
    conn: &mut AnyConnection,
    job: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO job_leases (name, holder, until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
         WHERE job_leases.until <= $4 OR job_leases.holder = excluded.holder",
    )
    .bind(job)
    .bind(holder)
    .bind(until)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Give the lease back early (at shutdown), so another instance need not wait it out.
pub async fn release(conn: &mut AnyConnection, job: &str, holder: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM job_leases WHERE name = $1 AND holder = $2")
        .bind(job)
        .bind(holder)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
