//! Who may talk to the bridge: the configured portal origins, the bridge's own pages, and
//! nobody else. Also the Host check that defeats DNS rebinding.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// A configured origin that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid origin {origin:?}: {why}")]
pub struct OriginError {
    pub origin: String,
    pub why: &'static str,
}

/// Portal origins allowed to use the bridge, in the browser's serialisation
/// (`https://portal.example`, default port omitted, lower case, no path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, OriginError> {
        let mut out = Vec::new();
        for s in list {
            let o = normalize(s.as_ref())?;
            if !out.contains(&o) {
                out.push(o);
            }
        }
        if out.is_empty() {
            return Err(OriginError {
                origin: String::new(),
                why: "at least one --allow-origin is required",
            });
        }
        Ok(Self(out))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }
}

/// Parses `scheme://host[:port][/]` into the origin serialisation browsers use.
fn normalize(input: &str) -> Result<String, OriginError> {
    let bad = |why| OriginError {
        origin: input.to_owned(),
        why,
    };
    let s = input.trim();
    let (scheme, rest) = s
        .split_once("://")
        .ok_or_else(|| bad("expected scheme://host"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return Err(bad("scheme must be http or https")),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err(bad("missing host"));
    }
    if rest.contains(['/', '?', '#', '@', '\\', ' ']) {
        return Err(bad("an origin has no path, query, fragment or user info"));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed IPv6 bracket"))?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(bad("bad IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("junk after IPv6 address"))?,
            ),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(bad("host must be a DNS name or an IP address"));
        }
        (host.to_ascii_lowercase(), port)
    };
    match port {
        None => Ok(format!("{scheme}://{host}")),
        Some(p) => {
            let n: u16 = p
                .parse()
                .map_err(|_| bad("port must be a number 1-65535"))?;
            if n == 0 {
                return Err(bad("port must be a number 1-65535"));
            }
            if p.trim_start_matches('0') == default_port {
                Ok(format!("{scheme}://{host}"))
            } else {
                Ok(format!("{scheme}://{host}:{n}"))
            }
        }
    }
}

/// Who sent a request, from its `Origin` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A page served by the bridge itself (the popup's script).
    Bridge,
    /// An allowed portal origin (gets CORS headers).
    Portal(String),
    /// No `Origin` header and not a cross-site browser request (a same-origin GET, a URL
    /// typed in the address bar, curl).
    NoOrigin,
    /// Any other origin, including `null`.
    Foreign(String),
}

/// The rules for one running bridge (they depend on the port it listens on).
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: AllowedOrigins,
    own_origins: Vec<String>,
    hosts: Vec<String>,
}

impl OriginPolicy {
    pub fn new(allowed: AllowedOrigins, port: u16) -> Self {
        let hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        let own_origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Self {
            allowed,
            own_origins,
            hosts,
        }
    }

    pub fn allowed(&self) -> &AllowedOrigins {
        &self.allowed
    }

    /// The request was addressed to the bridge by a loopback name. A DNS-rebinding page
    /// (evil.example resolving to 127.0.0.1) sends `Host: evil.example` and is refused.
    pub fn host_ok(&self, headers: &HeaderMap) -> bool {
        headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| self.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)))
    }

    pub fn classify(&self, headers: &HeaderMap) -> Caller {
        let Some(value) = headers.get(ORIGIN) else {
            // `<img>`/`<script>` requests from another site carry no Origin, but browsers
            // mark them with Sec-Fetch-Site; such a page must not make us touch the card.
            return match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
                Some("cross-site" | "same-site") => Caller::Foreign("<no-cors, cross-site>".into()),
                _ => Caller::NoOrigin,
            };
        };
        let Ok(origin) = value.to_str() else {
            return Caller::Foreign("<non-ASCII>".into());
        };
        if self.own_origins.iter().any(|o| o == origin) {
            Caller::Bridge
        } else if self.allowed.contains(origin) {
            Caller::Portal(origin.to_owned())
        } else {
            Caller::Foreign(origin.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn origins_are_normalised_like_browsers_do() {
        let o = AllowedOrigins::parse(&[
            "https://Portal.Example/",
            "https://portal.example:443",
            "http://127.0.0.1:8080",
            "http://[::1]:80",
        ])
        .unwrap();
        assert_eq!(
            o.as_slice(),
            &[
                "https://portal.example",
                "http://127.0.0.1:8080",
                "http://[::1]"
            ]
        );
    }

    #[test]
    fn bad_origins_are_refused() {
        for bad in [
            "*",
            "null",
            "portal.example",
            "ftp://portal.example",
            "https://portal.example/login",
            "https://portal.example?x=1",
            "https://user@portal.example",
            "https://portal.example:0",
            "https://portal.example:99999",
            "https://",
            "https://por tal.example",
            "https://<script>",
        ] {
            assert!(AllowedOrigins::parse(&[bad]).is_err(), "{bad}");
        }
        assert!(AllowedOrigins::parse::<&str>(&[]).is_err());
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn callers_are_classified() {
        let p = OriginPolicy::new(
            AllowedOrigins::parse(&["https://portal.example"]).unwrap(),
            61161,
        );
        assert_eq!(p.classify(&headers(&[])), Caller::NoOrigin);
        assert_eq!(
            p.classify(&headers(&[("origin", "https://portal.example")])),
            Caller::Portal("https://portal.example".into())
        );
        assert_eq!(
            p.classify(&headers(&[("origin", "http://localhost:61161")])),
            Caller::Bridge
        );
        assert_eq!(
            p.classify(&headers(&[("origin", "http://127.0.0.1:61161")])),
            Caller::Bridge
        );
        assert!(matches!(
            p.classify(&headers(&[("origin", "null")])),
            Caller::Foreign(_)
        ));
        assert!(matches!(
            p.classify(&headers(&[("origin", "https://portal.example.evil")])),
            Caller::Foreign(_)
        ));
        assert!(matches!(
            p.classify(&headers(&[("origin", "http://127.0.0.1:61162")])),
            Caller::Foreign(_)
        ));
        assert!(matches!(
            p.classify(&headers(&[("sec-fetch-site", "cross-site")])),
            Caller::Foreign(_)
        ));
        assert_eq!(
            p.classify(&headers(&[("sec-fetch-site", "same-origin")])),
            Caller::NoOrigin
        );
        assert_eq!(
            p.classify(&headers(&[("sec-fetch-site", "none")])),
            Caller::NoOrigin
        );
    }

    #[test]
    fn host_must_be_loopback_with_our_port() {
        let p = OriginPolicy::new(
            AllowedOrigins::parse(&["https://portal.example"]).unwrap(),
            61161,
        );
        assert!(p.host_ok(&headers(&[("host", "localhost:61161")])));
        assert!(p.host_ok(&headers(&[("host", "127.0.0.1:61161")])));
        assert!(!p.host_ok(&headers(&[("host", "evil.example:61161")])));
        assert!(!p.host_ok(&headers(&[("host", "localhost:80")])));
        assert!(!p.host_ok(&headers(&[])));
    }
}
