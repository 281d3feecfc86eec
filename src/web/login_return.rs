//! Where a person goes after logging in, and what comes back with them.
//!
//! A page asked for without a live session sends its address through the
//! login page (`/login?next=…`), and logging in leads there. A form sent
//! after its session ended (it timed out, or was logged out in another
//! tab) changes nothing; the login page says so, and then leads to the
//! form's page, which shows again the fields a person typed that are not
//! secrets ([`RETURNED_FIELDS`]). Those travel in the session's cookie
//! (sealed with the session key), never in an address: not in the
//! browser's history, a proxy's log, or a link someone else could send to
//! fill a form in. The form is shown once so, to be sent again by hand,
//! with the new session's CSRF token and single-use id.

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::web::Bytes;
use serde::{Deserialize, Serialize};

use crate::domain::percent_encode;

/// A form's body as it was received (buffered by `request_limits`), kept
/// for the login page should the session turn out to have ended.
#[derive(Clone)]
pub(super) struct SentBody(pub Bytes);

/// The fields a form page shows again after a login (see [`ReturnedForm`]);
/// never a password.
pub const RETURNED_FIELDS: [&str; 5] = [
    "username",
    "read_only",
    "expires",
    "connection_limit",
    "label",
];

/// Where the session keeps a [`ReturnedForm`] until its page shows it.
pub(super) const RETURNED: &str = "returned_form";

/// What a form page shows again after a login ([`RETURNED_FIELDS`]); each
/// absent unless it came back. Taken from the session once, by the page it
/// belongs to; any other request leaves it there.
#[derive(Debug, Default)]
pub struct Returned {
    pub username: Option<String>,
    pub read_only: Option<String>,
    pub expires: Option<String>,
    pub connection_limit: Option<String>,
    pub label: Option<String>,
}

impl actix_web::FromRequest for Returned {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_session::SessionExt;
        let session = req.get_session();
        let form = session.get::<ReturnedForm>(RETURNED).ok().flatten();
        let returned = match form {
            Some(form) if form.page == req.path() => {
                session.remove(RETURNED);
                form.returned()
            }
            _ => Self::default(),
        };
        std::future::ready(Ok(returned))
    }
}

/// Whether `address` is a path of this site: a browser reads `//host` and
/// `/\host` as another site's; and nothing a header could not carry.
pub fn same_site_path(address: &str) -> bool {
    address.starts_with('/')
        && !address.starts_with("//")
        && !address.starts_with("/\\")
        && address.len() <= super::request_limits::FIELD_BYTES
        && !address.chars().any(|c| c.is_control() || c == ' ')
}

/// `address` if it is a page to return to after logging in: one of this
/// site's, and not the login page itself.
pub fn local_page(address: &str) -> Option<&str> {
    let path = address.split('?').next().unwrap_or_default();
    let page = same_site_path(address) && path != "/login" && path != "/logout";
    page.then_some(address)
}

/// A form sent after its session ended, as it comes back: its page and
/// the fields of [`RETURNED_FIELDS`] it held, empty ones too (a cleared
/// expiry stays cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedForm {
    pub page: String,
    pub fields: Vec<(String, String)>,
}

/// The most a returned form may hold, so that the session's cookie stays
/// far below what browsers keep (4 KiB): a longer one is not kept.
const RETURNED_BYTES: usize = 1024;

impl ReturnedForm {
    /// What `request`'s body held, when it is a form sent to a page that
    /// shows one again.
    fn of(request: &HttpRequest) -> Option<Self> {
        let SentBody(body) = request.extensions().get::<SentBody>()?.clone();
        let sent: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).ok()?;
        let fields: Vec<(String, String)> = sent
            .into_iter()
            .filter(|(name, _)| RETURNED_FIELDS.contains(&name.as_str()))
            .collect();
        let size: usize = fields
            .iter()
            .map(|(name, value)| name.len() + value.len())
            .sum();
        (!fields.is_empty() && size <= RETURNED_BYTES).then(|| Self {
            page: form_page(request.path()),
            fields,
        })
    }

    /// The fields, as the form page reads them.
    pub fn returned(&self) -> Returned {
        let field = |wanted: &str| {
            self.fields
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, value)| value.clone())
        };
        Returned {
            username: field("username"),
            read_only: field("read_only"),
            expires: field("expires"),
            connection_limit: field("connection_limit"),
            label: field("label"),
        }
    }
}

/// `page` (a [`local_page`]) as a `Location` header carries it: what is not
/// ASCII percent-encoded, as a browser would have sent it.
pub fn location(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for c in page.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

/// Where the login page sends `request`'s sender, and for a form, what it
/// held: with the page it asked for; for a form, with the form's page and
/// the mark `unsent`, so the login page says the form changed nothing.
pub(super) fn login_return(request: &HttpRequest) -> (String, Option<ReturnedForm>) {
    let path = request.path();
    let query = request.query_string();
    let with_query = |page: String| match query {
        "" => page,
        query => format!("{page}?{query}"),
    };
    if request.method() == Method::GET {
        let location = match local_page(&with_query(path.to_owned())) {
            Some("/") | None => "/login".to_owned(),
            Some(next) => format!("/login?next={}", percent_encode(next)),
        };
        return (location, None);
    }
    let location = match local_page(&with_query(form_page(path))) {
        Some(next) => format!("/login?next={}&unsent", percent_encode(next)),
        None => "/login?unsent".to_owned(),
    };
    (location, ReturnedForm::of(request))
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
        // Longer than a query field may be: the login page would refuse it.
        assert_eq!(local_page(&format!("/{}", "a".repeat(1024))), None);
    }

    #[test]
    fn a_location_carries_only_ascii() {
        assert_eq!(
            location("/databases/é/x?q=ü"),
            "/databases/%C3%A9/x?q=%C3%BC"
        );
        assert_eq!(location("/activity?page=2"), "/activity?page=2");
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
