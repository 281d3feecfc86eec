//! Who sent a request, and to which site: the one place that reads
//! forwarding headers.
//!
//! `X-Forwarded-For`, `X-Forwarded-Host`, `X-Forwarded-Proto` and
//! `Forwarded` can be written by anyone, so they count only when the TCP
//! peer is one of the configured trusted proxies (`PGUSERS_TRUSTED_PROXIES`).
//! actix-web's `ConnectionInfo` believes them from everyone, hence this
//! module; nothing else should look at those headers or at `ConnectionInfo`.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use actix_web::http::header::{HOST, HeaderMap};
use actix_web::web;

use crate::domain::TrustedProxies;

const X_FORWARDED_FOR: &str = "x-forwarded-for";
const X_FORWARDED_HOST: &str = "x-forwarded-host";
const X_FORWARDED_PROTO: &str = "x-forwarded-proto";
const FORWARDED: &str = "forwarded";

/// The client's address: the TCP peer, or, when the peer is a trusted
/// proxy, the rightmost address of the forwarding chain that is not a
/// trusted proxy (the left of it was written by the client and proves
/// nothing).
pub fn address(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    if !trusted(req, peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_for(req.headers()).into_iter().rev() {
        // An unreadable hop (`unknown`, an obfuscated name) ends the chain
        // of what can be believed: the last trusted proxy is as far as it goes.
        let Some(hop) = hop else { break };
        client = hop;
        if !trusted(req, hop) {
            break;
        }
    }
    Some(client)
}

/// The site a request was sent to, for comparing with its `Origin`.
#[derive(Debug, PartialEq, Eq)]
pub struct Site {
    /// `host[:port]` as the browser wrote it.
    pub authority: Option<String>,
    /// `http` or `https`, when a trusted proxy says which; pgusers itself
    /// speaks plain HTTP and cannot tell what the browser used.
    pub scheme: Option<String>,
}

/// The request's own `Host`; or, from a trusted proxy, the host and scheme
/// it says the browser used.
pub fn site(req: &HttpRequest) -> Site {
    let headers = req.headers();
    let own_host = || {
        headers
            .get(HOST)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
    };
    let from_proxy = req.peer_addr().is_some_and(|peer| trusted(req, peer.ip()));
    if !from_proxy {
        return Site {
            authority: own_host(),
            scheme: None,
        };
    }
    // The last value is the one the nearest proxy wrote; earlier ones may
    // come from the client.
    let forwarded = |x_header: &str, parameter: &str| {
        last_list_item(headers, x_header).or_else(|| {
            forwarded_elements(headers)
                .into_iter()
                .rev()
                .find_map(|element| parameter_of(&element, parameter))
        })
    };
    Site {
        authority: forwarded(X_FORWARDED_HOST, "host").or_else(own_host),
        scheme: forwarded(X_FORWARDED_PROTO, "proto").map(|s| s.to_ascii_lowercase()),
    }
}

/// Whether `address` is a trusted proxy; no setting trusts no one.
fn trusted(req: &HttpRequest, address: IpAddr) -> bool {
    req.app_data::<web::Data<TrustedProxies>>()
        .is_some_and(|proxies| proxies.trusts(address))
}

/// The addresses of the forwarding chain, client first: `X-Forwarded-For`,
/// else the `for=` of `Forwarded`. `None` for a hop that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let listed = list_items(headers, X_FORWARDED_FOR);
    if !listed.is_empty() {
        return listed.iter().map(|item| hop_address(item)).collect();
    }
    forwarded_elements(headers)
        .iter()
        .filter_map(|element| parameter_of(element, "for"))
        .map(|node| hop_address(&node))
        .collect()
}

/// A hop as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn hop_address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| {
            text.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or("")
                .parse::<IpAddr>()
        })
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The comma-separated items of every instance of a header, in order.
fn list_items(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

fn last_list_item(headers: &HeaderMap, name: &str) -> Option<String> {
    list_items(headers, name).pop()
}

/// The elements of `Forwarded` (RFC 7239), one per proxy, client side first.
fn forwarded_elements(headers: &HeaderMap) -> Vec<String> {
    list_items(headers, FORWARDED)
}

/// A parameter of one `Forwarded` element, unquoted: `for="[::1]:80"`.
fn parameter_of(element: &str, name: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ipv6_clients_are_counted_by_their_64_network_and_ipv4_by_address() {
        let key = |text: &str| crate::state::throttling_key(text.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
    }

    use actix_web::test::TestRequest;

    use super::*;

    fn request(peer: &str, trusted: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let proxies: TrustedProxies = trusted.parse().unwrap();
        let mut req = TestRequest::default()
            .peer_addr(peer.parse().unwrap())
            .insert_header((HOST, "dash.example:8080"))
            .app_data(web::Data::new(proxies));
        for header in headers {
            req = req.append_header(*header);
        }
        req.to_http_request()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let req = request(
            "198.51.100.7:5000",
            "",
            &[
                ("X-Forwarded-For", "203.0.113.1"),
                ("Forwarded", "for=203.0.113.2"),
            ],
        );
        assert_eq!(address(&req), ip("198.51.100.7"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let forged_then_real = request(
            "10.0.0.2:5000",
            "10.0.0.0/8",
            &[("X-Forwarded-For", "1.1.1.1, 203.0.113.9, 10.0.0.5")],
        );
        assert_eq!(address(&forged_then_real), ip("203.0.113.9"));

        let two_headers = request(
            "10.0.0.2:5000",
            "10.0.0.0/8",
            &[
                ("X-Forwarded-For", "1.1.1.1"),
                ("X-Forwarded-For", "203.0.113.9"),
            ],
        );
        assert_eq!(address(&two_headers), ip("203.0.113.9"));
    }

    #[test]
    fn a_forwarded_header_is_read_when_there_is_no_x_forwarded_for() {
        let req = request(
            "10.0.0.2:5000",
            "10.0.0.2",
            &[(
                "Forwarded",
                "for=1.1.1.1, for=\"[2001:db8::7]:4711\";proto=https",
            )],
        );
        assert_eq!(address(&req), ip("2001:db8::7"));
    }

    #[test]
    fn an_unreadable_hop_stops_the_chain_at_the_last_trusted_proxy() {
        let req = request(
            "10.0.0.2:5000",
            "10.0.0.0/8",
            &[("X-Forwarded-For", "203.0.113.9, unknown, 10.0.0.3")],
        );
        assert_eq!(address(&req), ip("10.0.0.3"));
    }

    #[test]
    fn the_site_comes_from_forwarding_headers_only_from_a_trusted_proxy() {
        let headers = [
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "https"),
        ];
        let untrusted = request("198.51.100.7:5000", "10.0.0.0/8", &headers);
        assert_eq!(
            site(&untrusted),
            Site {
                authority: Some("dash.example:8080".into()),
                scheme: None
            }
        );

        let trusted = request("10.0.0.2:5000", "10.0.0.0/8", &headers);
        assert_eq!(
            site(&trusted),
            Site {
                authority: Some("evil.example".into()),
                scheme: Some("https".into())
            }
        );

        let forwarded = request(
            "10.0.0.2:5000",
            "10.0.0.0/8",
            &[(
                "Forwarded",
                "host=a.example, host=\"db.example\";proto=HTTPS",
            )],
        );
        assert_eq!(
            site(&forwarded),
            Site {
                authority: Some("db.example".into()),
                scheme: Some("https".into())
            }
        );
    }
}
