//! Failed-login counting per client IP and per account, in memory: a sliding window of
//! failure times. Each instance counts its own failures (see docs: the limit is per instance).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
    window_secs: i64,
    max_per_account: usize,
    max_per_ip: usize,
}

impl LoginLimiter {
    pub fn new(window_minutes: i64, max_per_account: usize, max_per_ip: usize) -> Self {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
            window_secs: window_minutes.max(1) * 60,
            max_per_account,
            max_per_ip,
        }
    }

    fn count(map: &mut HashMap<String, Vec<i64>>, key: &str, since: i64) -> usize {
        match map.get_mut(key) {
            Some(v) => {
                v.retain(|t| *t > since);
                v.len()
            }
            None => 0,
        }
    }

    /// Whether a login attempt for `account` from `ip` may go ahead at `now` (Unix seconds).
    pub fn allowed(&self, ip: &str, account: Option<&str>, now: i64) -> bool {
        let Ok(mut map) = self.failures.lock() else {
            return false;
        };
        let since = now - self.window_secs;
        if Self::count(&mut map, &format!("ip:{ip}"), since) >= self.max_per_ip {
            return false;
        }
        match account {
            Some(a) => Self::count(&mut map, &format!("account:{a}"), since) < self.max_per_account,
            None => true,
        }
    }

    pub fn failed(&self, ip: &str, account: Option<&str>, now: i64) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        // Bound memory under a flood of distinct keys: forget quiet entries first.
        if map.len() > 100_000 {
            let since = now - self.window_secs;
            map.retain(|_, v| v.iter().any(|t| *t > since));
        }
        map.entry(format!("ip:{ip}")).or_default().push(now);
        if let Some(a) = account {
            map.entry(format!("account:{a}")).or_default().push(now);
        }
    }

    /// A successful login clears the account's failures (not the IP's).
    pub fn succeeded(&self, account: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("account:{account}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_and_ip_limits_and_the_window() {
        let l = LoginLimiter::new(15, 3, 5);
        for i in 0..3 {
            assert!(l.allowed("1.2.3.4", Some("alice"), 100 + i));
            l.failed("1.2.3.4", Some("alice"), 100 + i);
        }
        assert!(
            !l.allowed("9.9.9.9", Some("alice"), 110),
            "account limit spans IPs"
        );
        assert!(l.allowed("1.2.3.4", Some("bob"), 110));
        l.failed("1.2.3.4", Some("bob"), 111);
        l.failed("1.2.3.4", Some("carol"), 112);
        assert!(
            !l.allowed("1.2.3.4", Some("dave"), 113),
            "IP limit spans accounts"
        );
        assert!(
            l.allowed("1.2.3.4", Some("dave"), 100 + 15 * 60 + 20),
            "window slides"
        );
        l.succeeded("alice");
        assert!(l.allowed("9.9.9.9", Some("alice"), 120));
    }
}
