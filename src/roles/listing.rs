//! Listing users: a page of them (searched, filtered) and how many match,
//! in one round trip, by a statement each connection prepares once.
//!
//! # Why it is fast at ten thousand users
//! - The page's roles come from `pg_authid` in name order, through its
//!   index, and only they are examined closely: whether each is an
//!   application user of this database (`sql/restrictions.sql`, seeded
//!   with the page's roles only), read-only, protected.
//! - The readers group's oid is found once per query, and whether it only
//!   reads (`sql/only_read.sql`) asks PostgreSQL's own privilege functions over
//!   the objects that carry an ACL, never unpacking an ACL: a database
//!   where thousands of users were granted CONNECT has an ACL of thousands
//!   of items, and `aclexplode` on it is quadratic.
//! - The count of matching users is one pass over `pg_authid` (a filter on
//!   read-only or read-write adds a few index lookups per role).
//! - There is no per-row sub-select that scans a catalog: each one is an
//!   index lookup on `pg_auth_members`, `pg_shdepend` or `pg_database`.
//!
//! Each variant of the query (a search or not, a filter, a window) is its
//! own text, so the plan PostgreSQL caches for a prepared statement is made
//! for it: `sql/listing.sql`, its holes filled by [`query`] with
//! fragments of `sql/` and the short pieces that tell variants apart. The first page's plan at 10,000 users is in BENCHMARKS.md
//! (`cargo bench --bench users_page` prints it).

use deadpool_postgres::GenericClient;
use tokio_postgres::types::Type;

use super::sql::{self, ListingParts};
use super::{DatabaseUser, PasswordEncryption, RoleError, RoleManager, restriction};
use crate::domain::{Search, Show};

/// Which part of the matching users a listing returns, in name order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// All of them.
    All,
    /// `limit` of them after skipping `offset` (a page of the dashboard).
    Page { offset: u64, limit: u32 },
    /// None: only how many match.
    CountOnly,
}

/// What a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing<'a> {
    pub search: Option<&'a Search>,
    pub show: Show,
    pub window: Window,
}

impl<'a> Listing<'a> {
    /// Every user, in name order.
    pub fn everyone() -> Self {
        Self {
            search: None,
            show: Show::All,
            window: Window::All,
        }
    }
}

/// Some of the users a listing matched, and how many it matched in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub users: Vec<DatabaseUser>,
    pub total: u64,
}

impl ListPage {
    /// Nobody matched.
    fn empty() -> Self {
        Self {
            users: Vec::new(),
            total: 0,
        }
    }
}

/// Whether a filter needs every candidate's standing (whether pgusers may
/// change it) before it can page: the standing of only a page's roles is
/// otherwise computed.
fn judges_every_candidate(show: Show) -> bool {
    matches!(show, Show::ReadWrite | Show::Protected)
}

/// The conditions a role of `pg_authid r` meets to be a candidate of
/// `listing` (the window aside, and the standing a filter may still ask,
/// see [`standing_filter`]).
fn matching(listing: &Listing<'_>) -> String {
    let mut conditions = vec![sql::MANAGED];
    match listing.search {
        // Folding ASCII in "C" finds the same names, faster.
        Some(search) if search.as_str().is_ascii() => conditions.push(sql::NAME_CONTAINS_ASCII),
        Some(_) => conditions.push(sql::NAME_CONTAINS),
        None => {}
    }
    if listing.show == Show::ReadOnly {
        conditions.push(sql::READ_ONLY);
    }
    conditions.join("\n AND ")
}

/// What a filter asks of a candidate `r` once `restrictions` is known, as
/// the fields say it: read-write users are those pgusers may change and
/// that are not read-only; protected ones, those it will not change (the
/// protected user, database owners and roles that are more than
/// application users; the API's and the CLI's `protected`).
fn standing_filter(show: Show) -> String {
    let (read_only, protected, restricted) = (sql::READ_ONLY, sql::PROTECTED, sql::RESTRICTED);
    match show {
        Show::ReadWrite => {
            format!("NOT {read_only} AND NOT {protected} AND NOT {restricted}")
        }
        Show::Protected => format!("({protected} OR {restricted})"),
        Show::All | Show::ReadOnly => "true".to_owned(),
    }
}

/// The query for `listing`, reading `pg_authid` (with password
/// encryption) when `authid`, else `pg_roles`. Parameters: `$1` the
/// configured protected user, `$2` the search, `$3` one role's name (for
/// [`RoleManager::find`]), `$4` the limit, `$5` the offset; each variant
/// names only those it needs.
fn query(listing: &Listing<'_>, authid: bool, one: bool) -> String {
    let (source, encryption) = if authid {
        ("pg_authid", sql::PASSWORD_ENCRYPTION)
    } else {
        ("pg_roles", "NULL::text")
    };
    let matching = matching(listing);
    let one_role = if one { "AND r.rolname = $3" } else { "" };
    let window = match listing.window {
        Window::All => "",
        Window::Page { .. } => "LIMIT $4 OFFSET $5",
        Window::CountOnly => "LIMIT 0",
    };
    // The roles to judge (`scope`, which `restrictions` reads), the roles
    // shown, and how many there are in all.
    // A search reads every role once, keeping those that match (a few,
    // usually): the page and the count come from them, where reading the
    // name index until a page is found could read every role for nothing
    // and the count read them all again (a search matching nobody at ten
    // thousand roles: 12 ms, against 5 ms). Otherwise the page is the
    // first roles of the name index and the count one pass.
    let sparse = listing.search.is_some();
    let mut candidates = String::new();
    let (scope, shown, total) = if judges_every_candidate(listing.show) {
        let filter = standing_filter(listing.show);
        (
            format!("SELECT r.oid FROM {source} r WHERE {matching} {one_role}"),
            format!(
                "chosen AS (
                     SELECT r.oid, r.rolname FROM scope JOIN {source} r ON r.oid = scope.oid
                      CROSS JOIN facts WHERE {filter}),
                 shown AS (
                     SELECT c.oid FROM chosen c ORDER BY c.rolname {window}),"
            ),
            "SELECT count(*) AS n FROM chosen".to_owned(),
        )
    } else if sparse {
        candidates = format!(
            "matches AS MATERIALIZED (
                 SELECT r.oid, r.rolname FROM {source} r WHERE {matching} {one_role}),"
        );
        (
            format!("SELECT m.oid FROM matches m ORDER BY m.rolname {window}"),
            "shown AS (SELECT oid FROM scope),".to_owned(),
            "SELECT count(*) AS n FROM matches".to_owned(),
        )
    } else {
        (
            format!(
                "SELECT r.oid FROM {source} r
                  WHERE {matching} {one_role}
                  ORDER BY r.rolname {window}"
            ),
            "shown AS (SELECT oid FROM scope),".to_owned(),
            format!("SELECT count(*) AS n FROM {source} r WHERE {matching}"),
        )
    };
    sql::listing(&ListingParts {
        source,
        encryption,
        candidates: &candidates,
        scope: &scope,
        shown: &shown,
        total: &total,
    })
}

/// Every variant of the query, each with its name: every filter, with no
/// search, an ASCII one and one beyond ASCII, every kind of window, from
/// `pg_authid` and from `pg_roles`, for all users and for one; for the
/// test that prepares them all.
pub(super) fn every_variant() -> Vec<(String, String)> {
    let ascii = Search::parse("a").expect("a valid search");
    let beyond = Search::parse("\u{e9}").expect("a valid search");
    let searches = [
        ("no search", None),
        ("ascii search", Some(&ascii)),
        ("search beyond ascii", Some(&beyond)),
    ];
    let windows = [
        ("all", Window::All),
        (
            "a page",
            Window::Page {
                offset: 0,
                limit: 50,
            },
        ),
        ("the count only", Window::CountOnly),
    ];
    let mut variants = Vec::new();
    for show in Show::EVERY {
        for (searched, search) in searches {
            for (windowed, window) in windows {
                for authid in [true, false] {
                    for one in [false, true] {
                        let listing = Listing {
                            search,
                            show,
                            window,
                        };
                        let name = format!(
                            "({show}, {searched}, {windowed}, from {}{})",
                            if authid { "pg_authid" } else { "pg_roles" },
                            if one { ", one role" } else { "" }
                        );
                        variants.push((name, query(&listing, authid, one)));
                    }
                }
            }
        }
    }
    variants
}

/// The types of `$1`…`$5`, declared so each variant may leave some out.
pub(super) const PARAMETERS: [Type; 5] =
    [Type::TEXT, Type::TEXT, Type::TEXT, Type::INT8, Type::INT8];

impl RoleManager {
    /// The users `listing` asks for, in name order, and how many match.
    pub async fn list_page(&self, listing: &Listing<'_>) -> Result<ListPage, RoleError> {
        self.list_matching(listing, None).await
    }

    /// [`RoleManager::list_page`] read from the catalogs, never from the
    /// kept list (`kept.rs` filters and searches in memory what
    /// `sql/listing.sql` does in SQL): for the test that both answer alike.
    #[doc(hidden)]
    pub async fn list_page_read(&self, listing: &Listing<'_>) -> Result<ListPage, RoleError> {
        let client = self.client().await?;
        self.list_on(&client, listing, None).await
    }

    /// The database's users, ordered by name, in one query.
    pub async fn list(&self) -> Result<Vec<DatabaseUser>, RoleError> {
        Ok(self.list_page(&Listing::everyone()).await?.users)
    }

    /// How many users the database has.
    pub async fn count(&self) -> Result<u64, RoleError> {
        let listing = Listing {
            window: Window::CountOnly,
            ..Listing::everyone()
        };
        Ok(self.list_page(&listing).await?.total)
    }

    /// `listing`, narrowed to the role named `one` when given.
    pub(super) async fn list_matching(
        &self,
        listing: &Listing<'_>,
        one: Option<&str>,
    ) -> Result<ListPage, RoleError> {
        if one.is_none() && super::kept::serves(listing) {
            return self.list_kept(listing).await;
        }
        let client = self.client().await?;
        self.list_on(&client, listing, one).await
    }

    /// Every user, `part` at a time in name order, each part handed to
    /// `each` as it arrives; all parts read in one read-only snapshot, so a
    /// role made, renamed or dropped meanwhile is never printed twice or
    /// skipped. One statement judges them all, its rows fetched `part` at
    /// a time through a portal: what every part would otherwise repeat
    /// (whether the readers group only reads, what the groups hold) is
    /// read once.
    pub async fn list_in_parts<E: From<RoleError>>(
        &self,
        part: u32,
        mut each: impl FnMut(&[DatabaseUser]) -> Result<(), E>,
    ) -> Result<(), E> {
        // (A fetch of 0 rows would fetch them all, then nothing, forever.)
        let part = part.max(1);
        let mut client = self.client().await?;
        let mut retried = false;
        'attempt: loop {
            let snapshot = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(RoleError::server)?;
            let everyone = Listing::everyone();
            let (statement, authid) = self.statement_on(&snapshot, &everyone, false).await?;
            let (search, one): (Option<&str>, Option<&str>) = (None, None);
            let (limit, offset) = window_values(&everyone.window);
            // pg_authid refused (PostgreSQL checks when the portal is made):
            // asked again which kind pgusers is, the statement is the one
            // for that kind. No row has gone to `each` yet.
            let portal = match snapshot
                .bind(
                    &statement,
                    &[&self.configured_protected(), &search, &one, &limit, &offset],
                )
                .await
            {
                Ok(portal) => portal,
                Err(error) if !retried && self.forget_kind_if_refused(&error, authid) => {
                    retried = true;
                    continue 'attempt;
                }
                Err(error) => return Err(RoleError::server(error).into()),
            };
            loop {
                let rows = snapshot
                    .query_portal(&portal, i32::try_from(part).unwrap_or(i32::MAX))
                    .await
                    .map_err(RoleError::server)?;
                let users: Vec<DatabaseUser> = rows.iter().filter_map(user_of).collect();
                if !users.is_empty() {
                    each(&users)?;
                }
                if rows.len() < part as usize {
                    return Ok(());
                }
            }
        }
    }

    /// The listing statement for `listing` (narrowed to one role when
    /// `one`), prepared on `client`, and whether it reads `pg_authid`.
    async fn statement_on(
        &self,
        client: &impl GenericClient,
        listing: &Listing<'_>,
        one: bool,
    ) -> Result<(tokio_postgres::Statement, bool), RoleError> {
        self.protected_checked
            .get_or_try_init(|| async { self.facts(client).await.map(|_| ()) })
            .await?;
        let authid = self.admin_kind_on(client).await?.reads_authid;
        let statement = client
            .prepare_typed_cached(&query(listing, authid, one), &PARAMETERS)
            .await
            .map_err(RoleError::server)?;
        Ok((statement, authid))
    }

    /// [`RoleManager::list_matching`] on `client`.
    pub(super) async fn list_on(
        &self,
        client: &impl GenericClient,
        listing: &Listing<'_>,
        one: Option<&str>,
    ) -> Result<ListPage, RoleError> {
        if listing.search.is_some_and(|search| !search.can_match()) {
            return Ok(ListPage::empty());
        }
        let (limit, offset) = window_values(&listing.window);
        let search = listing.search.map(Search::as_str);
        let mut retried = false;
        let rows = loop {
            let (statement, authid) = self.statement_on(client, listing, one.is_some()).await?;
            match client
                .query(
                    &statement,
                    &[&self.configured_protected(), &search, &one, &limit, &offset],
                )
                .await
            {
                // pg_authid refused: asked again which kind pgusers is, the
                // statement is the one for that kind.
                Err(error) if !retried && self.forget_kind_if_refused(&error, authid) => {
                    retried = true
                }
                other => break other,
            }
        };
        let rows = match rows {
            Ok(rows) => rows,
            // A name or search the database's encoding cannot hold (a
            // LATIN1 database, `?q=名前`) matches no role there.
            Err(error) if (search.is_some() || one.is_some()) && unencodable(&error) => {
                return Ok(ListPage::empty());
            }
            Err(error) => return Err(RoleError::server(error)),
        };
        let total = rows
            .first()
            .map_or(0, |row| row.get::<_, i64>("n").max(0).unsigned_abs());
        let users = rows.iter().filter_map(user_of).collect();
        Ok(ListPage { users, total })
    }
}

/// The listing statement's `$4` and `$5` for `window`: the limit and the
/// offset.
fn window_values(window: &Window) -> (Option<i64>, Option<i64>) {
    match *window {
        Window::All | Window::CountOnly => (None, None),
        Window::Page { offset, limit } => (
            Some(i64::from(limit)),
            Some(i64::try_from(offset).unwrap_or(i64::MAX)),
        ),
    }
}

/// The user a row of the listing statement is about; `None` for the row
/// of the count alone, when no user is shown.
fn user_of(row: &tokio_postgres::Row) -> Option<DatabaseUser> {
    Some(DatabaseUser {
        username: row.get::<_, Option<String>>("name")?,
        read_only: row.get("read_only"),
        protected: row.get("protected"),
        password_encryption: PasswordEncryption::from_catalog(row.get("encryption")),
        not_manageable: restriction(row, 4),
        sessions: row.get::<_, i64>("sessions").max(0).unsigned_abs(),
        expires: row.get("expires"),
        expired: row.get("expired"),
        connection_limit: row.get("connection_limit"),
    })
}

/// Whether PostgreSQL refused a text because the database's encoding has
/// no such character.
pub(super) fn unencodable(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    matches!(
        error.code(),
        Some(code) if *code == SqlState::UNTRANSLATABLE_CHARACTER
            || *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_listing() -> Vec<Listing<'static>> {
        let search: &'static Search = Box::leak(Box::new(Search::parse("a").unwrap()));
        let mut listings = Vec::new();
        for show in Show::EVERY {
            for search in [None, Some(search)] {
                for window in [
                    Window::All,
                    Window::Page {
                        offset: 0,
                        limit: 50,
                    },
                    Window::CountOnly,
                ] {
                    listings.push(Listing {
                        search,
                        show,
                        window,
                    });
                }
            }
        }
        listings
    }

    #[test]
    fn each_variant_names_only_the_parameters_it_needs() {
        for listing in every_listing() {
            let sql = query(&listing, true, false);
            assert_eq!(sql.contains("$2"), listing.search.is_some(), "{listing:?}");
            assert!(!sql.contains("$3"), "{listing:?}");
            assert_eq!(
                sql.contains("$5"),
                matches!(listing.window, Window::Page { .. }),
                "{listing:?}"
            );
            assert!(query(&listing, true, true).contains("r.rolname = $3"));
            assert_eq!(
                sql.contains("SELECT count(*) AS n FROM matches"),
                listing.search.is_some() && !judges_every_candidate(listing.show),
                "a search reads the roles once for the page and the count: {listing:?}"
            );
            assert!(sql.is_ascii(), "a LATIN1 database reads it: {listing:?}");
        }
    }

    #[test]
    fn every_variant_is_its_own_text() {
        let variants = every_variant();
        let texts: std::collections::HashSet<&str> =
            variants.iter().map(|(_, sql)| sql.as_str()).collect();
        assert_eq!(variants.len(), 4 * 3 * 3 * 2 * 2);
        assert_eq!(texts.len(), variants.len());
    }

    #[test]
    fn a_search_is_a_plain_substring_never_a_pattern() {
        let search = Search::parse("a_%").unwrap();
        let listing = Listing {
            search: Some(&search),
            ..Listing::everyone()
        };
        let sql = query(&listing, false, false);
        assert!(sql.contains("strpos(lower(r.rolname::text), lower($2 COLLATE \"C\"))"));
        let beyond = Search::parse("é_%").unwrap();
        let sql = query(
            &Listing {
                search: Some(&beyond),
                ..Listing::everyone()
            },
            false,
            false,
        );
        assert!(sql.contains("strpos(lower(r.rolname::text COLLATE \"default\"), lower($2))"));
        assert!(!sql.contains("LIKE $2") && !sql.contains("~ $2"));
    }
}
