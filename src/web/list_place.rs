//! Where a person is in a users list (search, filter, page), read from the
//! URL's query and written back into every link and form that leaves the
//! list, so the "..." actions return to the same place.

use serde::Deserialize;

use crate::domain::{PageNumber, Search, Show, percent_encode};

/// The query of a users list URL, as typed: every field may be anything.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    show: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

/// A place in the users list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPlace {
    pub search: Option<Search>,
    pub show: Show,
    pub page: PageNumber,
}

impl Default for ListPlace {
    fn default() -> Self {
        Self {
            search: None,
            show: Show::All,
            page: PageNumber::FIRST,
        }
    }
}

/// The place an action's URL carries, to go back to; what was wrong in it
/// is shown by the list itself, not by the action.
impl actix_web::FromRequest for ListPlace {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    /// Through `web::Query`'s own extractor, so a query it cannot read
    /// answers with the dashboard's error page (its `QueryConfig`).
    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        std::future::ready(
            actix_web::web::Query::<ListParams>::from_request(req, payload)
                .into_inner()
                .map(|params| Self::read(&params).0),
        )
    }
}

impl ListPlace {
    /// The place a query names, and what was wrong in it (a filter or page
    /// that is not one: the list is shown without it, saying so).
    pub fn read(params: &ListParams) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let show = match params.show.as_deref().map(str::trim) {
            None | Some("") => Show::All,
            Some(word) => Show::parse(word).unwrap_or_else(|| {
                problems.push(format!(
                    "\"{}\" is not a filter: showing all users.",
                    crate::domain::visible(&shorten(word))
                ));
                Show::All
            }),
        };
        let page = match params.page.as_deref().map(str::trim) {
            None | Some("") => PageNumber::FIRST,
            Some(number) => PageNumber::parse(number).unwrap_or_else(|| {
                problems.push(format!(
                    "\"{}\" is not a page number: showing page 1.",
                    crate::domain::visible(&shorten(number))
                ));
                PageNumber::FIRST
            }),
        };
        let search = params.q.as_deref().and_then(Search::parse);
        (Self { search, show, page }, problems)
    }

    /// The same search and filter on another page.
    pub fn on_page(&self, page: PageNumber) -> Self {
        Self {
            page,
            ..self.clone()
        }
    }

    /// The same search with another filter, from its first page.
    pub fn showing(&self, show: Show) -> Self {
        Self {
            show,
            page: PageNumber::FIRST,
            ..self.clone()
        }
    }

    /// The URL query for this place: empty for the list as first seen,
    /// else `?` and its parameters, encoded.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(search) = &self.search {
            parts.push(format!("q={}", percent_encode(search.as_str())));
        }
        if self.show != Show::All {
            parts.push(format!("show={}", self.show.as_str()));
        }
        if self.page != PageNumber::FIRST {
            parts.push(format!("page={}", self.page));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// At most 40 characters of something typed, to quote it back.
fn shorten(input: &str) -> String {
    let mut short: String = input.chars().take(40).collect();
    if input.chars().count() > 40 {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: Option<&str>, show: Option<&str>, page: Option<&str>) -> ListParams {
        ListParams {
            q: q.map(str::to_owned),
            show: show.map(str::to_owned),
            page: page.map(str::to_owned),
        }
    }

    #[test]
    fn the_list_as_first_seen_has_no_query() {
        let (place, problems) = ListPlace::read(&ListParams::default());
        assert_eq!(place, ListPlace::default());
        assert!(problems.is_empty());
        assert_eq!(place.query(), "");
    }

    #[test]
    fn a_place_survives_its_own_query() {
        let (place, problems) =
            ListPlace::read(&params(Some("a b&c=%_é"), Some("read-only"), Some("3")));
        assert!(problems.is_empty());
        assert_eq!(
            place.query(),
            "?q=a%20b%26c%3D%25_%C3%A9&show=read-only&page=3"
        );
        assert_eq!(place.search.as_ref().unwrap().as_str(), "a b&c=%_é");
    }

    #[test]
    fn a_wrong_filter_or_page_is_named_and_replaced_by_the_default() {
        let (place, problems) = ListPlace::read(&params(None, Some("admins"), Some("0")));
        assert_eq!(place.show, Show::All);
        assert_eq!(place.page, PageNumber::FIRST);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].contains("\"admins\" is not a filter"));
        assert!(problems[1].contains("\"0\" is not a page number"));
    }

    #[test]
    fn a_quoted_wrong_value_is_short_and_shows_hidden_characters() {
        let long = format!("{}\u{202e}", "x".repeat(60));
        let (_, problems) = ListPlace::read(&params(None, Some(&long), None));
        assert!(problems[0].contains('…'));
        assert!(!problems[0].contains("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        let (_, problems) = ListPlace::read(&params(None, None, Some("1\u{202e}")));
        assert!(!problems[0].contains('\u{202e}'));
    }

    #[test]
    fn a_value_of_exactly_forty_characters_is_quoted_whole() {
        assert_eq!(shorten(&"x".repeat(40)), "x".repeat(40));
        assert_eq!(shorten(&"x".repeat(41)), format!("{}…", "x".repeat(40)));
    }

    #[test]
    fn changing_the_filter_goes_back_to_the_first_page_and_keeps_the_search() {
        let (place, _) = ListPlace::read(&params(Some("app"), None, Some("4")));
        let other = place.showing(Show::Protected);
        assert_eq!(other.page, PageNumber::FIRST);
        assert_eq!(other.query(), "?q=app&show=protected");
        assert_eq!(place.on_page(PageNumber::FIRST).query(), "?q=app");
    }
}
