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
//! for it: `EXPLAIN` of each is in BENCHMARKS.md.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::Type;

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
    /// list a part at a time).
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

/// Whether the readers group (oid `readers.oid`, `NULL` when it does not
/// exist) gives its members no more than reading, as a column `only_read`
/// of CTE `only_read`: it is a member of no role; and neither it nor PUBLIC
/// may create in the database or a schema, write a table, a column or a
/// large object, or use or set a sequence (`nextval`). These are what
/// [`super::privileges::readers_strays`] takes back before a change (where
/// it also looks at default privileges, which give nothing until a table
/// is made; the table's ACL is then looked at here).
///
/// Only objects whose ACL is set are asked about (without one, PUBLIC has
/// no such right and the group none at all). PUBLIC counts too, because a
/// member of the group could use what PUBLIC may: a read-only user who can
/// write a table is not read-only. System catalogs are left to
/// [`super::standing::RESTRICTIONS`] (a grant on one to the group makes
/// its members unmanageable), as PUBLIC may "update" `pg_settings`, which
/// is `SET`.
const ONLY_READ: &str = "
  only_read AS (
    SELECT COALESCE(
        NOT EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = g.oid)
        AND NOT has_database_privilege(g.oid, facts.oid, 'CREATE')
        AND NOT EXISTS (SELECT 1 FROM pg_namespace n
                         WHERE n.nspacl IS NOT NULL
                           AND has_schema_privilege(g.oid, n.oid, 'CREATE'))
        AND NOT EXISTS (SELECT 1 FROM pg_class c
                         WHERE c.relacl IS NOT NULL
                           AND c.relnamespace NOT IN ('pg_catalog'::regnamespace,
                                                      'information_schema'::regnamespace)
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
/// only reads, see [`ONLY_READ`]) and of no other role, with no privilege
/// or object of its own in this database (a member of the group that was
/// also granted INSERT somewhere is not). Index lookups only.
const READ_ONLY: &str = "
    ((SELECT only_read FROM only_read)
     AND EXISTS (SELECT 1 FROM pg_auth_members m
                  WHERE m.member = r.oid AND m.roleid = (SELECT oid FROM readers))
     AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                      WHERE m.member = r.oid AND m.roleid IS DISTINCT FROM (SELECT oid FROM readers))
     AND NOT EXISTS (SELECT 1 FROM pg_shdepend s
                      WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid
                        AND (s.dbid = facts.oid
                             OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
                                 AND s.objid = facts.oid))))";

/// Whether role `r` is protected: the protected user or a database's owner.
fn protected() -> String {
    format!("(r.oid = facts.protected_oid OR {OWNS_A_DATABASE})")
}

/// The conditions a role of `pg_authid r` meets to be counted by
/// `listing` (the window aside).
fn matching(listing: &Listing<'_>) -> String {
    let mut conditions = vec![MANAGED.to_owned()];
    if listing.search.is_some() {
        conditions.push("strpos(lower(r.rolname::text), lower($2)) > 0".to_owned());
    }
    match listing.show {
        Show::All => {}
        Show::ReadOnly => conditions.push(READ_ONLY.to_owned()),
        Show::ReadWrite => conditions.push(format!("NOT {READ_ONLY} AND NOT {}", protected())),
        Show::Protected => conditions.push(protected()),
    }
    conditions.join("\n AND ")
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
    format!(
        "WITH RECURSIVE facts AS ({DATABASE_FACTS}),
         readers AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS oid FROM facts),
         {ONLY_READ},
         scope AS (
             SELECT r.oid FROM {source} r CROSS JOIN facts
              WHERE {matching} {one_role} {after}
              ORDER BY r.rolname {window}),
         {RESTRICTIONS},
         total AS (SELECT count(*) AS n FROM {source} r CROSS JOIN facts WHERE {matching})
         SELECT u.*, total.n FROM total LEFT JOIN (
             SELECT r.rolname::text AS name,
                    {READ_ONLY} AS read_only,
                    {protected} AS protected,
                    {encryption} AS encryption,
                    x.kind, x.via, x.detail
               FROM scope JOIN {source} r ON r.oid = scope.oid CROSS JOIN facts
               LEFT JOIN restrictions x ON x.role = r.oid) u ON true
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
        if listing.search.is_some_and(|search| !search.can_match()) {
            return Ok(ListPage {
                users: Vec::new(),
                total: 0,
            });
        }
        let client = self.client().await?;
        self.protected_checked
            .get_or_try_init(|| async { self.facts(&client).await.map(|_| ()) })
            .await?;
        let authid = self.admin_kind_on(&client).await?.reads_authid;
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
        let rows = client
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
            .map_err(RoleError::server)?;
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
                })
            })
            .collect();
        Ok(ListPage { users, total })
    }
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
        assert!(sql.contains("strpos(lower(r.rolname::text), lower($2))"));
        assert!(!sql.contains("LIKE $2") && !sql.contains("~ $2"));
    }
}
