//! Who the client is behind reverse proxies. `X-Forwarded-For` and `Forwarded` are believed
//! only as far as they were written by proxies in `server.trusted_proxies`: walking the chain
//! from the TCP peer backwards, the first address that is not a trusted proxy is the client.
//! Anything a client wrote itself to the left of that is ignored, so it cannot pick the
//! address its rate limits are counted under.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client address for a request from `peer` with these headers.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    let mut client = peer;
    for hop in chain.iter().rev() {
        let Some(ip) = hop else {
            // An unreadable entry: stop at the last address we could trust.
            break;
        };
        client = *ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// The addresses of `X-Forwarded-For` (all its headers, in order) or, without it, of
/// `Forwarded`'s `for=` parameters; `None` for an entry that is no address (`unknown`,
/// an obfuscated name).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(|s| parse_addr(s.trim()))
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get_all("forwarded")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_addr(v.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_addr(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let headers = h(&[("x-forwarded-for", "198.51.100.9")]);
        assert_eq!(resolve(ip("203.0.113.5"), &headers, &[]), ip("203.0.113.5"));
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(ip("203.0.113.5"), &headers, &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; our proxies appended the rest.
        let headers = h(&[("x-forwarded-for", "1.1.1.1, 198.51.100.9, 10.0.0.2")]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &headers, &trusted),
            ip("198.51.100.9")
        );
        // Two headers count as one list.
        let headers = h(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "198.51.100.9"),
        ]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &headers, &trusted),
            ip("198.51.100.9")
        );
        // Only proxies in the chain: the leftmost is as far as we can see.
        let headers = h(&[("x-forwarded-for", "10.0.0.3")]);
        assert_eq!(resolve(ip("10.0.0.1"), &headers, &trusted), ip("10.0.0.3"));
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        // Garbage stops the walk at the last trusted hop.
        let headers = h(&[("x-forwarded-for", "198.51.100.9, junk")]);
        assert_eq!(resolve(ip("10.0.0.1"), &headers, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_header_rfc_7239() {
        let trusted: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap()];
        let headers = h(&[(
            "forwarded",
            "for=192.0.2.60;proto=https, For=\"[2001:db8:cafe::17]:4711\"",
        )]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &trusted),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(parse_addr("192.0.2.1:80"), Some(ip("192.0.2.1")));
        assert_eq!(parse_addr("unknown"), None);
    }
}
