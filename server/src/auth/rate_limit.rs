//! Login and challenge rate limits, counted in the database so that every instance behind the
//! load balancer sees the same counts (issue 12.5, 16.1).
//!
//! Failed logins are counted under three keys, each in a sliding window:
//! - the client address (`ip:`): one client cannot spray many accounts;
//! - the account *from that address* (`acct_ip:`): one client cannot guess one password,
//!   and, because the key includes the address, cannot lock that account for anyone else;
//! - the account from anywhere (`acct:`), with a much higher limit: many addresses together
//!   cannot guess one password either.
//!
//! The client address is the one [`crate::http::extract::ClientIp`] believes: the peer, or
//! the forwarded address when the peer is a trusted proxy.

use crate::config::AuthSettings;
use crate::db::{Db, rate_limits};

/// Whose account a login names: an operator's user name or the tax ID the card claims.
#[derive(Debug, Clone, Copy)]
pub enum Account<'a> {
    Operator(&'a str),
    Card(&'a str),
}

impl Account<'_> {
    fn id(&self) -> String {
        match self {
            Account::Operator(u) => format!("operator:{u}"),
            Account::Card(t) => format!("card:{t}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoginLimiter {
    window_secs: i64,
    max_per_account_and_ip: i64,
    max_per_account: i64,
    max_per_ip: i64,
    max_challenges_per_ip: i64,
}

/// The keys one attempt counts under, each with its limit.
fn keys(l: &LoginLimiter, ip: &str, account: Option<Account<'_>>) -> Vec<(String, i64)> {
    let mut keys = vec![(format!("ip:{ip}"), l.max_per_ip)];
    if let Some(a) = account {
        let id = a.id();
        keys.push((format!("acct_ip:{id}|{ip}"), l.max_per_account_and_ip));
        keys.push((format!("acct:{id}"), l.max_per_account));
    }
    keys
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl LoginLimiter {
    pub fn new(auth: &AuthSettings) -> Self {
        LoginLimiter {
            window_secs: auth.failure_window_minutes.max(1) * 60,
            max_per_account_and_ip: to_i64(auth.max_failures_per_account),
            max_per_account: to_i64(auth.max_failures_per_account_total),
            max_per_ip: to_i64(auth.max_failures_per_ip),
            max_challenges_per_ip: to_i64(auth.max_card_challenges_per_ip),
        }
    }

    /// Whether a login attempt for `account` from `ip` may go ahead at `now` (Unix seconds).
    pub async fn allowed(
        &self,
        db: &Db,
        ip: &str,
        account: Option<Account<'_>>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut conn = db.conn().await?;
        let since = now - self.window_secs;
        for (key, max) in keys(self, ip, account) {
            if rate_limits::count(&mut conn, &key, since).await? >= max {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub async fn failed(
        &self,
        db: &Db,
        ip: &str,
        account: Option<Account<'_>>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let keys = keys(self, ip, account);
        let refs: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        let mut conn = db.conn().await?;
        rate_limits::record(&mut conn, &refs, now).await
    }

    /// A successful login clears the account's failures from this address (not the
    /// address's own count, nor other addresses' failures on the account).
    pub async fn succeeded(
        &self,
        db: &Db,
        ip: &str,
        account: Account<'_>,
    ) -> Result<(), sqlx::Error> {
        let mut conn = db.conn().await?;
        rate_limits::clear(&mut conn, &format!("acct_ip:{}|{ip}", account.id())).await
    }

    /// Count one card challenge from `ip`; false when the address asked for too many.
    /// Challenges are rows in the database, so a flood of them is refused before it costs one.
    pub async fn challenge(&self, db: &Db, ip: &str, now: i64) -> Result<bool, sqlx::Error> {
        let key = format!("challenge:{ip}");
        let mut conn = db.conn().await?;
        if rate_limits::count(&mut conn, &key, now - self.window_secs).await?
            >= self.max_challenges_per_ip
        {
            return Ok(false);
        }
        rate_limits::record(&mut conn, &[&key], now).await?;
        Ok(true)
    }

    /// Forget events older than the window (housekeeping).
    pub async fn purge(&self, db: &Db, now: i64) -> Result<u64, sqlx::Error> {
        let mut conn = db.conn().await?;
        rate_limits::purge(&mut conn, now - self.window_secs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_counts_per_address_per_account_and_address_and_per_account() {
        let l = LoginLimiter::new(&AuthSettings::default());
        let k = keys(&l, "203.0.113.7", Some(Account::Operator("alice")));
        let names: Vec<&str> = k.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "ip:203.0.113.7",
                "acct_ip:operator:alice|203.0.113.7",
                "acct:operator:alice"
            ]
        );
        assert!(
            k[1].1 < k[2].1,
            "one address has a lower limit than all of them"
        );
        let card = keys(&l, "::1", Some(Account::Card("12345675")));
        assert_eq!(card[1].0, "acct_ip:card:12345675|::1");
        assert_eq!(keys(&l, "::1", None).len(), 1);
    }
}
