//! Listing users: a page of them (searched, filtered) and how many match,
//! in one round trip, by a statement each connection prepares once.
//!
//! # Why it is fast at ten thousand users
//! - The page's roles come from `pg_authid` in name order, through its
//!   index, and only they are examined closely: whether each is an
//!   application user of this database ([`super::standing::RESTRICTIONS`],
//!   seeded with the page's roles only), read-only, protected.
//! - The readers group's oid is found once per query, and whether it only
//!   reads ([`ONLY_READ`]) asks PostgreSQL's own privilege functions over
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
//! for it. The first page's plan at 10,000 users is in BENCHMARKS.md
//! (`cargo bench --bench users_page` prints it).

use deadpool_postgres::GenericClient;
use tokio_postgres::types::Type;

use super::sessions::CLIENT_SESSION;
use super::standing::RESTRICTIONS;
use super::{
    DATABASE_FACTS, DatabaseUser, MANAGED, OWNS_A_DATABASE, PasswordEncryption, RoleError,
    RoleManager, restriction,
};
use crate::domain::{Search, Show};

/// Which part of the matching users a listing returns, in name order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window<'a> {
    /// All of them.
    All,
    /// `limit` of them after skipping `offset` (a page of the dashboard).
    Page { offset: u64, limit: u32 },
    /// `limit` of them whose names sort after `name` (reading the whole
    /// list a part at a time). Nothing else is counted: the
    /// [`ListPage::total`] of a part is its own size, so reading ten
    /// thousand users does not also count them ten times.
    After { name: Option<&'a str>, limit: u32 },
    /// None: only how many match.
    CountOnly,
}

/// What a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing<'a> {
    pub search: Option<&'a Search>,
    pub show: Show,
    pub window: Window<'a>,
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

/// Whether the readers group (oid `readers.oid`, from [`RESTRICTIONS`];
/// `NULL` when it does not exist) gives its members no more than reading, as a column `only_read`
/// of CTE `only_read`: it is a member of no role; and neither it nor PUBLIC
/// may create in the database or a schema, write a table, a column or a
/// large object, or use or set a sequence (`nextval`). These are what
/// [`super::privileges::readers_strays`] takes back before a change (where
/// it also looks at default privileges, which give nothing until a table
/// is made; the table's ACL is then looked at here).
///
/// Only objects whose ACL is set are asked about: without one, PUBLIC has
/// no such right and the group none at all, unless it owns the object, so
/// the group must own nothing in this database (read from
/// [`RESTRICTIONS`]' `readers_deps`, so the group's shared dependencies
/// are read once). PUBLIC counts too, because
/// a member of the group could use what PUBLIC may: a read-only user who
/// can write a table is not read-only. The one exception is `pg_settings`,
/// which PUBLIC may "update": that is `SET`, not a write.
const ONLY_READ: &str = "
  only_read AS (
    SELECT COALESCE(
        NOT EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = g.oid)
        AND NOT EXISTS (SELECT 1 FROM readers_deps s
                         WHERE s.deptype = 'o' AND s.dbid = facts.oid)
        AND NOT has_database_privilege(g.oid, facts.oid, 'CREATE')
        AND NOT EXISTS (SELECT 1 FROM pg_namespace n
                         WHERE n.nspacl IS NOT NULL
                           AND has_schema_privilege(g.oid, n.oid, 'CREATE'))
        AND NOT EXISTS (SELECT 1 FROM pg_class c
                         WHERE c.relacl IS NOT NULL
                           AND c.oid <> 'pg_catalog.pg_settings'::regclass
                           AND CASE WHEN c.relkind = 'S'
                                    THEN has_sequence_privilege(g.oid, c.oid, 'USAGE, UPDATE')
                                    ELSE has_table_privilege(g.oid, c.oid,
                                           'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                                         OR (facts.version_num >= 170000
                                             AND has_table_privilege(g.oid, c.oid, 'MAINTAIN'))
                               END)
        AND NOT EXISTS (SELECT 1 FROM pg_attribute t
                         WHERE t.attacl IS NOT NULL AND NOT t.attisdropped
                           AND has_column_privilege(g.oid, t.attrelid, t.attnum,
                                                    'INSERT, UPDATE, REFERENCES'))
        AND NOT EXISTS (SELECT 1 FROM pg_largeobject_metadata l
                          CROSS JOIN LATERAL unnest(l.lomacl) i
                          CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                         WHERE a.grantee IN (g.oid, 0) AND a.privilege_type <> 'SELECT'),
        false) AS only_read
      FROM facts CROSS JOIN readers g)";

/// Whether role `r` is read-only: a member of the readers group (which
/// only reads, see [`ONLY_READ`]) and of no other role but the mark role
/// (which must give nothing: a member of nothing, granted nothing here),
/// with no privilege or object of its own in this database (a member of
/// the group that was also granted INSERT somewhere is not), but for what
/// PUBLIC lets any role make whatever pgusers does: large objects (where
/// pgusers' role may not take their making from PUBLIC) and default
/// privileges for itself, which write no table. Index lookups only.
const READ_ONLY: &str = "
    ((SELECT only_read FROM only_read)
     AND EXISTS (SELECT 1 FROM pg_auth_members m
                  WHERE m.member = r.oid AND m.roleid = (SELECT oid FROM readers))
     AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                      WHERE m.member = r.oid
                        AND m.roleid IS DISTINCT FROM (SELECT oid FROM readers)
                        AND m.roleid IS DISTINCT FROM (SELECT oid FROM mark))
     AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                      WHERE m.member = (SELECT oid FROM mark))
     AND NOT EXISTS (SELECT 1 FROM pg_shdepend s
                      WHERE s.refclassid = 'pg_authid'::regclass
                        AND s.refobjid = (SELECT oid FROM mark) AND s.deptype = 'a'
                        AND (s.dbid = (SELECT oid FROM facts)
                             OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
                                 AND s.objid = (SELECT oid FROM facts))))
     AND NOT EXISTS (SELECT 1 FROM pg_shdepend s
                      WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid
                        AND NOT (s.deptype = 'o'
                                 AND s.classid IN ('pg_largeobject'::regclass,
                                                   'pg_default_acl'::regclass))
                        AND (s.dbid = (SELECT oid FROM facts)
                             OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
                                 AND s.objid = (SELECT oid FROM facts)))))";

/// Whether role `r` is protected: the protected user or a database's owner.
fn protected() -> String {
    format!("(r.oid = facts.protected_oid OR {OWNS_A_DATABASE})")
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
    let mut conditions = vec![MANAGED.to_owned()];
    match listing.search {
        // An ASCII search: folding in "C" (a `name`'s collation, ASCII
        // only) finds the same names, at a fraction of the cost of a UTF-8
        // locale's folding over ten thousand names.
        Some(search) if search.as_str().is_ascii() => conditions
            .push("strpos(lower(r.rolname::text), lower($2 COLLATE \"C\")) > 0".to_owned()),
        // Beyond ASCII, both sides folded by the database's collation.
        Some(_) => conditions
            .push("strpos(lower(r.rolname::text COLLATE \"default\"), lower($2)) > 0".to_owned()),
        None => {}
    }
    if listing.show == Show::ReadOnly {
        conditions.push(READ_ONLY.to_owned());
    }
    conditions.join("\n AND ")
}

/// What a filter asks of a candidate `r` once `restrictions` is known, as
/// the fields say it: read-write users are those pgusers may change and
/// that are not read-only; protected ones, those it will not change (the
/// protected user, database owners and roles that are more than
/// application users; the API's and the CLI's `protected`).
fn standing_filter(show: Show) -> String {
    let judged = "EXISTS (SELECT 1 FROM restrictions x WHERE x.role = r.oid)";
    match show {
        Show::ReadWrite => format!("NOT {READ_ONLY} AND NOT {} AND NOT {judged}", protected()),
        Show::Protected => format!("({} OR {judged})", protected()),
        Show::All | Show::ReadOnly => "true".to_owned(),
    }
}

/// The query for `listing`, reading `pg_authid` (with password
/// encryption) when `authid`, else `pg_roles`. Parameters: `$1` the
/// configured protected user, `$2` the search, `$3` one role's name (for
/// [`RoleManager::find`]), `$4` the name to start after, `$5` the limit,
/// `$6` the offset; each variant names only those it needs.
fn query(listing: &Listing<'_>, authid: bool, one: bool) -> String {
    let (source, encryption) = if authid {
        (
            "pg_authid",
            "CASE WHEN r.rolpassword IS NULL THEN 'none'
                  WHEN r.rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram'
                  WHEN r.rolpassword LIKE 'md5%' THEN 'md5' END",
        )
    } else {
        ("pg_roles", "NULL::text")
    };
    let matching = matching(listing);
    let one_role = if one { "AND r.rolname = $3" } else { "" };
    let after = match listing.window {
        Window::After { name: Some(_), .. } => "AND r.rolname > $4",
        _ => "",
    };
    let window = match listing.window {
        Window::All => "",
        Window::Page { .. } => "LIMIT $5 OFFSET $6",
        Window::After { .. } => "LIMIT $5",
        Window::CountOnly => "LIMIT 0",
    };
    let protected = protected();
    // The roles to judge (`scope`, which RESTRICTIONS reads), the roles
    // shown, and how many there are in all.
    // A search reads every role once, keeping those that match (a few,
    // usually): the page and the count come from them, where reading the
    // name index until a page is found could read every role for nothing
    // and the count read them all again (a search matching nobody at ten
    // thousand roles: 12 ms, against 5 ms). Otherwise the page is the
    // first roles of the name index and the count one pass.
    let sparse = listing.search.is_some() && !matches!(listing.window, Window::After { .. });
    let mut candidates = String::new();
    let (scope, shown, total) = if judges_every_candidate(listing.show) {
        let filter = standing_filter(listing.show);
        let after = after.replace("r.rolname", "c.rolname");
        (
            format!("SELECT r.oid FROM {source} r WHERE {matching} {one_role}"),
            format!(
                "chosen AS (
                     SELECT r.oid, r.rolname FROM scope JOIN {source} r ON r.oid = scope.oid
                      CROSS JOIN facts WHERE {filter}),
                 shown AS (
                     SELECT c.oid FROM chosen c WHERE true {after}
                      ORDER BY c.rolname {window}),"
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
                  WHERE {matching} {one_role} {after}
                  ORDER BY r.rolname {window}"
            ),
            "shown AS (SELECT oid FROM scope),".to_owned(),
            match listing.window {
                Window::After { .. } => "SELECT count(*) AS n FROM shown".to_owned(),
                _ => format!("SELECT count(*) AS n FROM {source} r WHERE {matching}"),
            },
        )
    };
    format!(
        "WITH RECURSIVE facts AS ({DATABASE_FACTS}),
         {ONLY_READ},
         {candidates}
         scope AS ({scope}),
         {RESTRICTIONS},
         {shown}
         total AS ({total}),
         activity AS (
             SELECT a.usesysid, count(*) AS n FROM pg_stat_activity a
              WHERE {CLIENT_SESSION} AND a.pid <> pg_backend_pid()
              GROUP BY a.usesysid)
         SELECT u.*, total.n FROM total LEFT JOIN (
             SELECT r.rolname::text AS name,
                    {READ_ONLY} AS read_only,
                    {protected} AS protected,
                    {encryption} AS encryption,
                    x.kind, x.via, x.detail,
                    COALESCE(a.n, 0) AS sessions,
                    CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity' THEN NULL
                         WHEN r.rolvaliduntil = '-infinity' THEN '-infinity'
                         ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') END AS expires,
                    COALESCE(r.rolvaliduntil < now(), false) AS expired,
                    NULLIF(r.rolconnlimit, -1) AS connection_limit
               FROM shown JOIN {source} r ON r.oid = shown.oid CROSS JOIN facts
               LEFT JOIN restrictions x ON x.role = r.oid
               LEFT JOIN activity a ON a.usesysid = r.oid) u ON true
          ORDER BY u.name"
    )
}

/// The types of `$1`…`$6`, declared so each variant may leave some out.
const PARAMETERS: [Type; 6] = [
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
];

impl RoleManager {
    /// The users `listing` asks for, in name order, and how many match.
    pub async fn list_page(&self, listing: &Listing<'_>) -> Result<ListPage, RoleError> {
        self.list_matching(listing, None).await
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
        let client = self.client().await?;
        self.list_on(&client, listing, one).await
    }

    /// Every user, `part` at a time in name order, each part handed to
    /// `each` as it arrives; all parts read in one read-only snapshot, so a
    /// role made, renamed or dropped meanwhile is never printed twice or
    /// skipped.
    pub async fn list_in_parts<E: From<RoleError>>(
        &self,
        part: u32,
        mut each: impl FnMut(&[DatabaseUser]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut client = self.client().await?;
        let snapshot = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(RoleError::server)?;
        let mut after: Option<String> = None;
        loop {
            let listing = Listing {
                window: Window::After {
                    name: after.as_deref(),
                    limit: part,
                },
                ..Listing::everyone()
            };
            let users = self.list_on(&snapshot, &listing, None).await?.users;
            each(&users)?;
            match users.last() {
                Some(last) if users.len() == part as usize => after = Some(last.username.clone()),
                _ => return Ok(()),
            }
        }
    }

    /// [`RoleManager::list_matching`] on `client`.
    async fn list_on(
        &self,
        client: &impl GenericClient,
        listing: &Listing<'_>,
        one: Option<&str>,
    ) -> Result<ListPage, RoleError> {
        if listing.search.is_some_and(|search| !search.can_match()) {
            return Ok(ListPage::empty());
        }
        self.protected_checked
            .get_or_try_init(|| async { self.facts(client).await.map(|_| ()) })
            .await?;
        let authid = self.admin_kind_on(client).await?.reads_authid;
        let statement = client
            .prepare_typed_cached(&query(listing, authid, one.is_some()), &PARAMETERS)
            .await
            .map_err(RoleError::server)?;
        let (after, limit, offset) = match listing.window {
            Window::All | Window::CountOnly => (None, None, None),
            Window::Page { offset, limit } => (
                None,
                Some(i64::from(limit)),
                Some(i64::try_from(offset).unwrap_or(i64::MAX)),
            ),
            Window::After { name, limit } => (name, Some(i64::from(limit)), None),
        };
        let search = listing.search.map(Search::as_str);
        let rows = match client
            .query(
                &statement,
                &[
                    &self.configured_protected(),
                    &search,
                    &one,
                    &after,
                    &limit,
                    &offset,
                ],
            )
            .await
        {
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
        let users = rows
            .iter()
            .filter_map(|row| {
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
            })
            .collect();
        Ok(ListPage { users, total })
    }
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
                    Window::After {
                        name: Some("x"),
                        limit: 10,
                    },
                    Window::After {
                        name: None,
                        limit: 10,
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
                sql.contains("$4"),
                matches!(listing.window, Window::After { name: Some(_), .. }),
                "{listing:?}"
            );
            assert_eq!(
                sql.contains("$6"),
                matches!(listing.window, Window::Page { .. }),
                "{listing:?}"
            );
            assert!(query(&listing, true, true).contains("r.rolname = $3"));
            assert_eq!(
                sql.contains("SELECT count(*) AS n FROM shown"),
                matches!(listing.window, Window::After { .. })
                    && matches!(listing.show, Show::All | Show::ReadOnly),
                "a part of the whole list counts only itself: {listing:?}"
            );
            assert_eq!(
                sql.contains("SELECT count(*) AS n FROM matches"),
                listing.search.is_some()
                    && !matches!(listing.window, Window::After { .. })
                    && !judges_every_candidate(listing.show),
                "a search reads the roles once for the page and the count: {listing:?}"
            );
            assert!(sql.is_ascii(), "a LATIN1 database reads it: {listing:?}");
        }
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
