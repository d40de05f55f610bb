//! Who is on the other end: the client's IP (proxy-aware, not spoofable) and user agent.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};

use crate::{state::AppState, store::ClientMeta, throttle::canonical_ip};

/// The client's address and browser, as recorded on devices and used for throttling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's IP address, or `None` when unknown (in-process tests).
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, truncated to 256 characters.
    pub user_agent: String,
}

impl ClientInfo {
    /// The IP as text, `unknown` when there is none.
    pub fn ip_text(&self) -> String {
        self.ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }

    /// What is stored with a login about where it came from.
    pub fn meta(&self) -> ClientMeta {
        ClientMeta {
            user_agent: self.user_agent.clone(),
            ip: self.ip_text(),
        }
    }
}

/// Finds the client's IP.
///
/// `X-Forwarded-For` is believed only when the TCP peer is a configured trusted proxy, and
/// then only as far as the chain of trusted proxies goes: the first address from the right
/// that is not a trusted proxy is the client. Anyone else can write anything in that header.
///
/// Addresses are compared in canonical form: a dual-stack listener sees an IPv4 peer as
/// `::ffff:a.b.c.d`, which is the trusted proxy `a.b.c.d`.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = canonical_ip(peer?);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| canonical_ip(*t) == ip);
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical_ip(ip);
                if !is_trusted(client) {
                    break;
                }
            }
            // A garbled entry: stop trusting the chain here.
            Err(_) => break,
        }
    }
    Some(client)
}

impl<S> FromRequestParts<S> for ClientInfo
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = client_ip(peer, &parts.headers, &state.config.trusted_proxies);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(256)
            .collect();
        Ok(Self { ip, user_agent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_forged_forwarded_for_is_ignored_without_a_trusted_proxy() {
        let got = client_ip(Some(ip("203.0.113.9")), &headers("1.2.3.4"), &[]);
        assert_eq!(got, Some(ip("203.0.113.9")));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxy = ip("10.0.0.1");
        // The client forged "1.2.3.4"; the proxy appended the real address.
        let got = client_ip(Some(proxy), &headers("1.2.3.4, 198.51.100.7"), &[proxy]);
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn an_ipv4_mapped_peer_is_its_trusted_ipv4_proxy() {
        let proxy = ip("127.0.0.1");
        let got = client_ip(
            Some(ip("::ffff:127.0.0.1")),
            &headers("198.51.100.7"),
            &[proxy],
        );
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked() {
        let (edge, inner) = (ip("10.0.0.1"), ip("10.0.0.2"));
        let got = client_ip(
            Some(inner),
            &headers("198.51.100.7, 10.0.0.1"),
            &[edge, inner],
        );
        assert_eq!(got, Some(ip("198.51.100.7")));
    }
}
