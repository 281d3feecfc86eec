//! The users of a database, judged once and kept for the pages until
//! pgusers changes a role or a few seconds pass.
//!
//! Judging every user (read-only? protected? more than an application
//! user of this database?) reads every role and what every group holds: a
//! page of 50 users among 10,000 cost about 40 round trips' worth, a filter
//! or Settings › Health hundreds (BENCHMARKS.md). Kept, the list answers a
//! page, a search, a filter and a count in memory; a view then costs two
//! short queries: the change marks, and the sessions of the users shown.
//!
//! # When the list is judged again
//! - After any change pgusers makes, from any process: each change writes a
//!   new mark into its change-lock role's comment, in its own transaction
//!   (`changes.rs`), and each view first reads the marks of every pgusers
//!   on the server (`sql/change_marks.sql`, an index range): a kept list
//!   stands only while they are what they were when it was judged. A
//!   person sees their own change, and one made by another replica, the
//!   CLI or another database's dashboard on the same server, at once.
//! - [`KEPT_FOR`] after it was judged, whatever the marks say: a change
//!   made without pgusers (`GRANT` in psql, a role dropped by hand) shows
//!   within that long. The labels (Read only, Protected, not manageable),
//!   the password's expiry and whether it has passed, and the connection
//!   limit are at most that old; the sessions column is read at each view.
//! - Nothing a change decides is read from here: every change reads what it
//!   decides on again, in its own transaction under its locks.
//!
//! One request judges at a time, holding no other request's connection.
//! Requests arriving meanwhile wait for its judgement when the marks
//! changed (they must see the change), and take the kept list when only
//! its time ran out: so a change made without pgusers shows within
//! [`KEPT_FOR`] plus one judgement. A judgement that fails is not kept:
//! the next request judges.
//! A search beyond ASCII (folded by the database's collation, which only
//! PostgreSQL knows), the lookup of one user and a count alone read the
//! catalogs each time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::GenericClient;

use super::listing::{ListPage, Listing, Window};
use super::{DatabaseUser, Finding, RoleError, RoleManager, sql};
use crate::domain::Show;

/// How long a kept list stands when no pgusers changed a role meanwhile.
pub const KEPT_FOR: Duration = Duration::from_secs(5);

/// A judgement of a [`RoleManager`], kept: the list of users, or the
/// findings of Settings › Health.
pub(super) struct Keeper<T> {
    kept: std::sync::RwLock<Option<Kept<T>>>,
    /// Held while judging: one judgement at a time.
    judging: tokio::sync::Mutex<()>,
}

impl<T> Default for Keeper<T> {
    fn default() -> Self {
        Self {
            kept: std::sync::RwLock::new(None),
            judging: tokio::sync::Mutex::new(()),
        }
    }
}

#[derive(Clone)]
struct Kept<T> {
    /// The change marks read just before it was judged.
    marks: Option<String>,
    judged_at: Instant,
    value: T,
}

impl<T> Kept<T> {
    /// Whether it answers a request that began at `asked_at` and then read
    /// `marks`: it was judged since (while the request waited), so it is at
    /// least as new as what the request would judge; or no pgusers changed
    /// a role since it was judged, less than [`KEPT_FOR`] ago.
    fn stands(&self, asked_at: Instant, marks: &Option<String>) -> bool {
        self.judged_at > asked_at || (self.marks == *marks && self.judged_at.elapsed() < KEPT_FOR)
    }
}

impl<T: Clone> Keeper<T> {
    /// The kept value, while it stands for a request that began at
    /// `asked_at` and then read `marks`; else `judge`'s, kept. One request
    /// judges at a time: the others wait for its judgement, but those that
    /// read the kept marks take the kept value meanwhile (only its time
    /// ran out, see [`KEPT_FOR`]).
    async fn get<F>(
        &self,
        asked_at: Instant,
        marks: Option<String>,
        judge: impl FnOnce() -> F,
    ) -> Result<T, RoleError>
    where
        F: Future<Output = Result<T, RoleError>>,
    {
        let kept = self.kept();
        if let Some(kept) = kept.as_ref().filter(|kept| kept.stands(asked_at, &marks)) {
            return Ok(kept.value.clone());
        }
        let judging = match (self.judging.try_lock(), kept) {
            (Ok(judging), _) => judging,
            // Being judged again because its time ran out: meanwhile, it.
            (Err(_), Some(kept)) if kept.marks == marks => return Ok(kept.value),
            (Err(_), _) => self.judging.lock().await,
        };
        // Judged by another request since this one looked.
        if let Some(kept) = self.kept().filter(|kept| kept.stands(asked_at, &marks)) {
            return Ok(kept.value);
        }
        let judged_at = Instant::now();
        let value = judge().await?;
        let judged = Kept {
            marks,
            judged_at,
            value: value.clone(),
        };
        match self.kept.write() {
            Ok(mut kept) => *kept = Some(judged),
            Err(poisoned) => *poisoned.into_inner() = Some(judged),
        }
        drop(judging);
        Ok(value)
    }

    fn kept(&self) -> Option<Kept<T>> {
        match self.kept.read() {
            Ok(kept) => kept.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Whether the kept list answers `listing`: everything but a search
/// beyond ASCII, and a count alone (the home page's, `pgusers databases`'),
/// which one pass over the roles answers without judging anyone, where an
/// empty or outdated kept list would judge every user first.
pub(super) fn serves(listing: &Listing<'_>) -> bool {
    listing.window != Window::CountOnly
        && listing
            .search
            .is_none_or(|search| search.as_str().is_ascii())
}

impl RoleManager {
    /// [`RoleManager::list_matching`] from the kept list, for a listing it
    /// [`serves`]. Each step takes a pooled connection of its own: a
    /// request waiting for another's judgement holds none.
    pub(super) async fn list_kept(&self, listing: &Listing<'_>) -> Result<ListPage, RoleError> {
        let users = self.kept_users().await?;
        let mut page = chosen(&users, listing);
        if !page.users.is_empty() {
            count_sessions(&self.client().await?, &mut page.users).await?;
        }
        Ok(page)
    }

    /// What Settings › Health says ([`RoleManager::check_access`]), kept
    /// as the list of users is: `pgusers doctor` and every fix check
    /// afresh.
    pub async fn check_access_kept(&self) -> Result<Arc<[Finding]>, RoleError> {
        let (asked_at, marks) = self.marks().await?;
        self.kept_findings
            .get(asked_at, marks, || async {
                Ok(self.check_access().await?.into())
            })
            .await
    }

    /// Every user, judged: the kept ones while they stand, else judged
    /// again (and kept).
    async fn kept_users(&self) -> Result<Arc<[DatabaseUser]>, RoleError> {
        let (asked_at, marks) = self.marks().await?;
        self.kept_users
            .get(asked_at, marks, || async {
                let client = self.client().await?;
                let everyone = self.list_on(&client, &Listing::everyone(), None).await?;
                Ok(everyone.users.into())
            })
            .await
    }

    /// When this request began, and the change marks of every pgusers on
    /// the server (`sql/change_marks.sql`) then. Read before judging: a
    /// change committed in between makes the next request judge again,
    /// never keeps its effect under old marks.
    async fn marks(&self) -> Result<(Instant, Option<String>), RoleError> {
        let asked_at = Instant::now();
        let client = self.client().await?;
        let statement = client
            .prepare_cached(sql::CHANGE_MARKS)
            .await
            .map_err(RoleError::server)?;
        let marks = client
            .query_one(&statement, &[])
            .await
            .map_err(RoleError::server)?
            .get(0);
        Ok((asked_at, marks))
    }
}

/// The users of `users` (every one, in name order) that `listing` asks
/// for, and how many match.
fn chosen(users: &[DatabaseUser], listing: &Listing<'_>) -> ListPage {
    let search = listing.search.map(|search| search.as_str().as_bytes());
    let matching = users
        .iter()
        .filter(|user| search.is_none_or(|search| contains_ascii_folded(&user.username, search)))
        .filter(|user| shows(listing.show, user));
    let (total, users) = match listing.window {
        Window::All => {
            let users: Vec<DatabaseUser> = matching.cloned().collect();
            (users.len(), users)
        }
        Window::Page { offset, limit } => {
            let mut total = 0;
            let mut shown = Vec::new();
            let offset = usize::try_from(offset).unwrap_or(usize::MAX);
            let end = offset.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX));
            for user in matching {
                if (offset..end).contains(&total) {
                    shown.push(user.clone());
                }
                total += 1;
            }
            (total, shown)
        }
        Window::CountOnly => (matching.count(), Vec::new()),
    };
    ListPage {
        users,
        total: total as u64,
    }
}

/// Whether `name` contains `search` (ASCII), ASCII letters folded: what
/// `sql/name_contains_ascii.sql` asks PostgreSQL, folding in "C", which
/// folds only them. (A byte of a character beyond ASCII never equals an
/// ASCII one.)
fn contains_ascii_folded(name: &str, search: &[u8]) -> bool {
    search.is_empty()
        || name
            .as_bytes()
            .windows(search.len())
            .any(|window| window.eq_ignore_ascii_case(search))
}

/// Whether filter `show` keeps `user`, as the listing's SQL filters
/// (`listing.rs`): read-write users are those pgusers may change that are
/// not read-only; protected ones, those it will not change.
fn shows(show: Show, user: &DatabaseUser) -> bool {
    match show {
        Show::All => true,
        Show::ReadOnly => user.read_only,
        Show::ReadWrite => user.manageable() && !user.read_only,
        Show::Protected => !user.manageable(),
    }
}

/// Sets how many sessions each of `users` has open now.
async fn count_sessions(
    client: &impl GenericClient,
    users: &mut [DatabaseUser],
) -> Result<(), RoleError> {
    let names: Vec<&str> = users.iter().map(|user| user.username.as_str()).collect();
    let statement = client
        .prepare_cached(&sql::SESSIONS_BY_NAME)
        .await
        .map_err(RoleError::server)?;
    let rows = client
        .query(&statement, &[&names])
        .await
        .map_err(RoleError::server)?;
    let counts: HashMap<String, i64> = rows
        .iter()
        .map(|row| (row.get("name"), row.get("n")))
        .collect();
    for user in users {
        user.sessions = counts
            .get(&user.username)
            .map_or(0, |n| n.max(&0).unsigned_abs());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Search;
    use crate::roles::{PasswordEncryption, Restriction};

    fn user(name: &str, read_only: bool, protected: bool, restricted: bool) -> DatabaseUser {
        DatabaseUser {
            username: name.to_owned(),
            read_only,
            protected,
            password_encryption: PasswordEncryption::ScramSha256,
            not_manageable: restricted.then_some(Restriction::Predefined),
            sessions: 0,
            expires: None,
            expired: false,
            connection_limit: None,
        }
    }

    /// Eight users in name order: writers, readers, the protected one and
    /// a role that is more than an application user.
    fn everyone() -> Vec<DatabaseUser> {
        vec![
            user("Alpha_one", false, false, false),
            user("alpha_two", true, false, false),
            user("beta", false, true, false),
            user("gamma_ALPHA", false, false, true),
            user("delta", true, false, false),
            user("\u{c9}lan_alpha", false, false, false),
            user("epsilon", false, false, false),
            user("zeta", true, false, false),
        ]
    }

    fn names(page: &ListPage) -> Vec<String> {
        page.users.iter().map(|u| u.username.clone()).collect()
    }

    fn listing(search: Option<&Search>, show: Show, window: Window) -> Listing<'_> {
        Listing {
            search,
            show,
            window,
        }
    }

    #[test]
    fn a_page_is_its_window_of_the_matches_and_the_total_counts_them_all() {
        let users = everyone();
        let page = |offset, limit| {
            chosen(
                &users,
                &listing(None, Show::All, Window::Page { offset, limit }),
            )
        };
        assert_eq!(names(&page(0, 3)), ["Alpha_one", "alpha_two", "beta"]);
        assert_eq!(names(&page(6, 3)), ["epsilon", "zeta"]);
        assert!(page(8, 3).users.is_empty());
        assert!(page(u64::MAX, u32::MAX).users.is_empty());
        assert_eq!(page(3, 2).total, 8);
        let count = chosen(&users, &listing(None, Show::ReadOnly, Window::CountOnly));
        assert_eq!((count.total, count.users.len()), (3, 0));
        assert_eq!(
            chosen(&users, &listing(None, Show::All, Window::All)).users,
            users
        );
    }

    #[test]
    fn a_search_folds_ascii_letters_only_and_filters_judge_as_the_sql_does() {
        let users = everyone();
        let alpha = Search::parse("ALPHA").unwrap();
        let all = |search, show| names(&chosen(&users, &listing(search, show, Window::All)));
        assert_eq!(
            all(Some(&alpha), Show::All),
            ["Alpha_one", "alpha_two", "gamma_ALPHA", "\u{c9}lan_alpha"]
        );
        // "C" folds no letter beyond ASCII: "é" does not find "É".
        let lan = Search::parse("\u{e9}lan").unwrap();
        assert!(!serves(&listing(Some(&lan), Show::All, Window::All)));
        assert!(!serves(&listing(None, Show::All, Window::CountOnly)));
        assert!(serves(&listing(Some(&alpha), Show::All, Window::All)));
        let lan_ = Search::parse("lan_").unwrap();
        assert_eq!(all(Some(&lan_), Show::All), ["\u{c9}lan_alpha"]);
        assert_eq!(all(Some(&alpha), Show::ReadOnly), ["alpha_two"]);
        assert_eq!(
            all(None, Show::ReadWrite),
            ["Alpha_one", "\u{c9}lan_alpha", "epsilon"]
        );
        assert_eq!(all(None, Show::Protected), ["beta", "gamma_ALPHA"]);
        assert_eq!(all(None, Show::ReadOnly), ["alpha_two", "delta", "zeta"]);
        assert!(contains_ascii_folded("x", b""));
        assert!(!contains_ascii_folded("ab", b"abc"));
    }

    #[tokio::test]
    async fn a_judgement_stands_until_the_marks_change_and_requests_at_once_share_one() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let keeper = Keeper::<u32>::default();
        let judged = AtomicU32::new(0);
        let judge = || async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(judged.fetch_add(1, Ordering::SeqCst) + 1)
        };
        let marks = |mark: &str| Some(mark.to_owned());

        let first = keeper.get(Instant::now(), marks("a"), judge).await.unwrap();
        let again = keeper.get(Instant::now(), marks("a"), judge).await.unwrap();
        assert_eq!((first, again), (1, 1), "the same marks: kept");
        let changed = keeper.get(Instant::now(), marks("b"), judge).await.unwrap();
        assert_eq!(changed, 2, "new marks: judged again");

        // Two requests that began together share one judgement.
        let began = Instant::now();
        let (one, other) = tokio::join!(
            keeper.get(began, marks("c"), judge),
            keeper.get(began, marks("c"), judge)
        );
        assert_eq!((one.unwrap(), other.unwrap()), (3, 3));

        // A judgement that fails is not kept: the next request judges.
        let failed = keeper
            .get(Instant::now(), marks("d"), || async {
                Err(RoleError::Misconfigured("down".to_owned().into()))
            })
            .await;
        assert!(failed.is_err());
        let after = keeper.get(Instant::now(), marks("d"), judge).await.unwrap();
        assert_eq!(after, 4);
        assert_eq!(judged.load(Ordering::SeqCst), 4);
    }
}
