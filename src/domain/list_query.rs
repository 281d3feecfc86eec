//! What a person asks of the users list: which users (a search and a
//! filter) and which page of them.

use std::fmt;
use std::num::NonZeroU32;

/// Users shown on one page of the dashboard's list.
pub const PAGE_SIZE: u32 = 50;

/// The longest search kept: PostgreSQL role names have at most 63 bytes, so
/// a longer search matches nothing, but it is kept (and shown back) whole up
/// to this many characters.
pub const SEARCH_MAX: usize = 100;

/// Which users a list shows, by what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    #[default]
    All,
    ReadOnly,
    /// Users pgusers may change that are not read-only.
    ReadWrite,
    /// Users pgusers will not change: the protected default user, database
    /// owners, and roles that are more than application users of this
    /// database (the API's and the CLI's `protected`).
    Protected,
}

impl Show {
    pub const EVERY: [Show; 4] = [Show::All, Show::ReadOnly, Show::ReadWrite, Show::Protected];

    /// The filter a URL names; `None` for a word that is not one.
    pub fn parse(input: &str) -> Option<Self> {
        Self::EVERY
            .into_iter()
            .find(|show| show.as_str() == input.trim())
    }

    /// The word in URLs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::ReadOnly => "read-only",
            Self::ReadWrite => "read-write",
            Self::Protected => "protected",
        }
    }

    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All users",
            Self::ReadOnly => "Read only",
            Self::ReadWrite => "Read-write",
            Self::Protected => "Protected",
        }
    }
}

impl fmt::Display for Show {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Part of a user's name to look for, matched without regard to case.
/// Any text is a search (`_` and `%` are plain characters), even one no
/// name can contain: it then finds nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search(String);

impl Search {
    /// The search typed, trimmed; `None` when nothing is left. Longer than
    /// [`SEARCH_MAX`] characters, it is cut there.
    pub fn parse(input: &str) -> Option<Self> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(Self(trimmed.chars().take(SEARCH_MAX).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a role name could contain it: PostgreSQL names never hold
    /// a NUL character (and the server refuses one in a query).
    pub fn can_match(&self) -> bool {
        !self.0.contains('\0')
    }
}

impl fmt::Display for Search {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A page of a list, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageNumber(NonZeroU32);

impl PageNumber {
    pub const FIRST: PageNumber = PageNumber(NonZeroU32::MIN);

    /// The page a URL names; `None` for anything but a whole number from 1.
    pub fn parse(input: &str) -> Option<Self> {
        input.trim().parse::<NonZeroU32>().ok().map(Self)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The last page of `total` items, `per_page` to a page (page 1 when
    /// there are none).
    pub fn last(total: u64, per_page: u32) -> Self {
        let pages = total.div_ceil(u64::from(per_page.max(1))).max(1);
        Self(NonZeroU32::new(u32::try_from(pages).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN))
    }

    /// How many items come before this page.
    pub fn offset(self, per_page: u32) -> u64 {
        u64::from(self.get() - 1) * u64::from(per_page)
    }

    pub fn previous(self) -> Option<Self> {
        NonZeroU32::new(self.get() - 1).map(Self)
    }

    pub fn next(self) -> Option<Self> {
        self.get()
            .checked_add(1)
            .and_then(NonZeroU32::new)
            .map(Self)
    }
}

impl fmt::Display for PageNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_reads_back_from_its_own_word() {
        for show in Show::EVERY {
            assert_eq!(Show::parse(show.as_str()), Some(show));
        }
        assert_eq!(Show::parse(" read-only "), Some(Show::ReadOnly));
        assert_eq!(Show::parse("readonly"), None);
        assert_eq!(Show::parse(""), None);
    }

    #[test]
    fn a_filter_shows_as_its_url_word_and_each_has_its_own_label() {
        let labels: std::collections::BTreeSet<&str> =
            Show::EVERY.iter().map(|show| show.label()).collect();
        assert_eq!(labels.len(), Show::EVERY.len());
        assert_eq!(Show::ReadOnly.label(), "Read only", "the guide's words");
        for show in Show::EVERY {
            assert_eq!(show.to_string(), show.as_str());
        }
    }

    #[test]
    fn a_search_is_trimmed_and_an_empty_one_is_no_search() {
        assert_eq!(Search::parse("  app_ ").unwrap().as_str(), "app_");
        assert_eq!(Search::parse(" a b ").unwrap().to_string(), "a b");
        assert_eq!(Search::parse("   "), None);
        assert_eq!(Search::parse(""), None);
    }

    #[test]
    fn a_search_keeps_any_character_but_is_cut_at_its_maximum() {
        assert_eq!(Search::parse("a%b_c'\"").unwrap().as_str(), "a%b_c'\"");
        let long = "é".repeat(SEARCH_MAX + 5);
        assert_eq!(
            Search::parse(&long).unwrap().as_str().chars().count(),
            SEARCH_MAX
        );
    }

    #[test]
    fn a_search_with_a_nul_character_can_match_no_name() {
        assert!(!Search::parse("a\0b").unwrap().can_match());
        assert!(Search::parse("ab").unwrap().can_match());
    }

    #[test]
    fn page_numbers_start_at_one() {
        assert_eq!(PageNumber::parse("1"), Some(PageNumber::FIRST));
        assert_eq!(PageNumber::parse(" 3 ").map(PageNumber::get), Some(3));
        for wrong in ["0", "-1", "x", "", "1.5", "99999999999"] {
            assert_eq!(PageNumber::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn the_last_page_holds_the_remainder_and_an_empty_list_has_one_page() {
        assert_eq!(PageNumber::last(0, 50).get(), 1);
        assert_eq!(PageNumber::last(50, 50).get(), 1);
        assert_eq!(PageNumber::last(51, 50).get(), 2);
        assert_eq!(PageNumber::last(10_001, 50).get(), 201);
    }

    #[test]
    fn pages_know_their_offset_and_neighbours() {
        let third = PageNumber::parse("3").unwrap();
        assert_eq!(third.offset(50), 100);
        assert_eq!(PageNumber::FIRST.offset(50), 0);
        assert_eq!(third.previous().map(PageNumber::get), Some(2));
        assert_eq!(PageNumber::FIRST.previous(), None);
        assert_eq!(third.next().map(PageNumber::get), Some(4));
    }
}
