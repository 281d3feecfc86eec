//! Where a person goes after logging in, and what comes back with them.
//!
//! A page asked for without a live session sends its address through the
//! login page (`/login?next=…`), and logging in leads there. A form sent
//! after its session ended (it timed out, or was logged out in another
//! tab) changes nothing; the login page says so, and then leads to the
//! form's page with the fields a person typed that are not secrets in its
//! address ([`Returned`]), so it is shown again as it was, to be sent
//! again by hand with the new session's ids. Passwords never go into an
//! address: only the fields [`RETURNED_FIELDS`] names do.

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::web::Bytes;
use serde::Deserialize;

use crate::domain::percent_encode;

/// A form's body as it was received (buffered by `request_limits`), kept
/// for the login page should the session turn out to have ended.
#[derive(Clone)]
pub(super) struct SentBody(pub Bytes);

/// The fields a form page takes back from its address; never a password.
pub const RETURNED_FIELDS: [&str; 5] = [
    "username",
    "read_only",
    "expires",
    "connection_limit",
    "label",
];

/// What a form page shows again after a login ([`RETURNED_FIELDS`]); each
/// absent unless it came back.
#[derive(Debug, Default, Deserialize)]
pub struct Returned {
    pub username: Option<String>,
    pub read_only: Option<String>,
    pub expires: Option<String>,
    pub connection_limit: Option<String>,
    pub label: Option<String>,
}

/// Whether `address` is a path of this site: a browser reads `//host` and
/// `/\host` as another site's; and nothing a header could not carry.
pub fn same_site_path(address: &str) -> bool {
    address.starts_with('/')
        && !address.starts_with("//")
        && !address.starts_with("/\\")
        && address.len() <= 2048
        && !address.chars().any(|c| c.is_control() || c == ' ')
}

/// `address` if it is a page to return to after logging in: one of this
/// site's, and not the login page itself.
pub fn local_page(address: &str) -> Option<&str> {
    let path = address.split('?').next().unwrap_or_default();
    let page = same_site_path(address) && path != "/login" && path != "/logout";
    page.then_some(address)
}

/// Where the login page sends `request`'s sender: with the page it asked
/// for; for a form, with the form's page and what was typed, and the
/// mark `unsent` so the login page says the form changed nothing.
pub(super) fn login_address(request: &HttpRequest) -> String {
    let path = request.path();
    let query = request.query_string();
    let (next, unsent) = if request.method() == Method::GET {
        let next = match query {
            "" => path.to_owned(),
            query => format!("{path}?{query}"),
        };
        (next, false)
    } else {
        let mut pairs: Vec<String> = (!query.is_empty())
            .then(|| query.to_owned())
            .into_iter()
            .collect();
        if let Some(SentBody(body)) = request.extensions().get::<SentBody>() {
            let sent: Vec<(String, String)> =
                serde_urlencoded::from_bytes(body).unwrap_or_default();
            pairs.extend(
                sent.iter()
                    .filter(|(name, value)| {
                        RETURNED_FIELDS.contains(&name.as_str()) && !value.is_empty()
                    })
                    .map(|(name, value)| format!("{name}={}", percent_encode(value))),
            );
        }
        let page = form_page(path);
        let next = match pairs.join("&") {
            joined if joined.is_empty() => page,
            joined => format!("{page}?{joined}"),
        };
        (next, true)
    };
    match (local_page(&next), unsent) {
        (Some("/"), false) | (None, false) => "/login".to_owned(),
        (Some(next), false) => format!("/login?next={}", percent_encode(next)),
        (Some(next), true) => format!("/login?next={}&unsent", percent_encode(next)),
        (None, true) => "/login?unsent".to_owned(),
    }
}

/// The page that shows the form posted to `path`: the same address, but
/// for adding a user (posted to the list) and fixing a finding (posted
/// under Health).
fn form_page(path: &str) -> String {
    if path.ends_with("/settings/database-users") {
        format!("{path}/new")
    } else if let Some(health) = path.strip_suffix("/fix") {
        health.to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dashboards_own_pages_are_places_to_return_to() {
        for page in [
            "/",
            "/activity",
            "/databases/a/settings/database-users/new?username=abc",
        ] {
            assert_eq!(local_page(page), Some(page));
        }
        for not in [
            "",
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "/login?next=/",
            "/logout",
            "/a\nb",
            "/a b",
            "relative",
        ] {
            assert_eq!(local_page(not), None, "{not:?}");
        }
        assert_eq!(local_page(&format!("/{}", "a".repeat(2048))), None);
    }

    #[test]
    fn a_form_returns_to_the_page_that_shows_it() {
        assert_eq!(
            form_page("/databases/a/settings/database-users"),
            "/databases/a/settings/database-users/new"
        );
        assert_eq!(
            form_page("/databases/a/settings/health/fix"),
            "/databases/a/settings/health"
        );
        assert_eq!(
            form_page("/databases/a/settings/database-users/u/limits"),
            "/databases/a/settings/database-users/u/limits"
        );
        assert_eq!(form_page("/api-tokens"), "/api-tokens");
    }
}
