//! The role module's SQL: its queries, each a file of `src/roles/sql/`, and
//! the statements PostgreSQL takes without bind parameters.
//!
//! # Queries
//! Every query is one file of `sql/`, named for what it does and read in
//! at compile time (`include_str!`) by a constant here: the rest of the
//! module writes no query. Each file begins with what it returns and what
//! its parameters are. Values always travel as bind parameters (`$1`…).
//!
//! # Composed statements
//! A rule several statements must apply alike is a fragment, a file of its
//! own written once: `database_facts.sql` (the `facts` CTE), `app_schemas.sql`
//! (the schemas the groups use), `managed.sql`
//! (whom pgusers lists), `restrictions.sql` (who is more than an
//! application user of this database), `client_session.sql`, `started.sql`,
//! `public_owner.sql`, `privileged_owner.sql`, `privileged_relation.sql`,
//! `group_deps.sql`, `owned_here.sql` with `object_key.sql`, and what
//! finds the code a deleted user leaves (`type_code.sql`, `reached.sql`,
//! `others_function.sql`, `review_statement.sql`).
//!
//! A statement marks where a fragment goes with a hole, `{restrictions}`,
//! and names the fragments in its first lines ("Fills: …"). The file is the
//! format string of a `format!` here, the fragments its arguments, so the
//! compiler refuses a hole without a fragment and a fragment without its
//! hole. (`concat!` could only put fragments end to end: a fragment in the
//! middle of a statement would cut the statement into several files.) A
//! composed statement is filled once, at its first use ([`LazyLock`]):
//! - `managed_target.sql`: `database_facts`, `restrictions` (itself filled
//!   with `large_object_grant`, twice, `privileged_owner` as a function
//!   owner's, `privileged_relation` (itself filled with `privileged_owner`
//!   twice, as a view owner's and as a definer's) and `group_deps`),
//!   `managed`;
//! - `left_code.sql`: `type_code`, `reached`, `others_function` (for the
//!   aliases `p` and `f`), `review_statement`, and `calls_others_code`,
//!   `partition_key_code` and `exclusion_code`, filled from the same;
//! - `planted_triggers.sql`: `type_code`, `reached`;
//! - `blocking_sessions.sql`, `blockers_to_end.sql`: `blocking` (filled
//!   with `role_locked`); `role_lock_held.sql`: `role_locked`;
//! - `owned_keys.sql`, `made_meanwhile.sql`: `owned_here`, `object_key`;
//! - `lockout_before.sql`, `delete_running.sql`: `started`;
//! - `user_sessions.sql`, `end_client_sessions.sql`, `sessions_by_name.sql`:
//!   `client_session`;
//! - `may_create_in_public.sql`: `public_owner`;
//! - `group_gaps.sql`, `relation_gaps.sql`, `future_not_shared.sql`, `left_alone.sql`:
//!   `database_facts`, `app_schemas`; `relation_gaps.sql` also
//!   `privileged_relation`, the other two `privileged_owner` as a definer's
//!   (what they would share includes materialized views);
//! - `group_memberships.sql`: `database_facts`, and a membership's options
//!   (columns from 16, constants before: two statements); `groups_own.sql`:
//!   `database_facts`, `group_deps`; `group_beyond.sql`: `database_facts`,
//!   `restrictions`.
//!
//! One is filled at each call, from what the call asks:
//! - `listing.sql` ([`listing`]): `database_facts`, `only_read`,
//!   `restrictions`, `client_session`, `read_only`, `protected`, and the
//!   pieces `listing.rs` chooses for the variant: the catalog read, the
//!   CTEs that find and count the page's roles (with `managed`, a search's
//!   `name_contains…`, a filter's `read_only`, `protected`, `restricted`),
//!   the window.
//!
//! Holes take SQL text written here or in `sql/`, and in
//! `others_function.sql` a table alias: never a name from the catalog or a
//! value. A file with holes cannot run alone: `tests/it/roles_queries.rs`
//! prepares every query, each composed one and every variant of the
//! listing ([`every_query`]), on each PostgreSQL major.
//!
//! # Statements without bind parameters
//! `CREATE ROLE`, `ALTER ROLE`, `GRANT`, `REVOKE`, `COMMENT ON`, `DROP`
//! and `REASSIGN OWNED` accept no `$1`: they stay format strings in the
//! code that runs them, beside the decision that makes each, and the tests
//! that make each change run them. Names in them are quoted by [`ident`]
//! and texts by [`literal`], the module's only quoting functions;
//! passwords reach PostgreSQL only as SCRAM-SHA-256 verifiers
//! ([`password_clause`]), so no plaintext reaches the server, its log or
//! its statistics. Statements a query writes for pgusers (`SELECT
//! format('REVOKE … FROM %I;', …)`) are quoted by PostgreSQL. Transaction
//! control (`SAVEPOINT`, `SET LOCAL lock_timeout`) stays where it runs too.

use std::sync::LazyLock;

use postgres_protocol::escape::{escape_identifier, escape_literal};
use tokio_postgres::types::Type;

use crate::domain::{LimitsChange, Password};

/// Parameters of a query, as tokio-postgres takes them.
pub(super) type Params<'a> = [&'a (dyn tokio_postgres::types::ToSql + Sync)];

/// The rows of `query`, prepared once per connection (deadpool's statement
/// cache): the module's catalog queries take PostgreSQL longer to parse
/// and plan than to run (the facts, about 3 ms each time at 10,000 users),
/// and one generic plan serves every call (see [`super::admin_config`]).
pub(super) async fn rows(
    client: &impl deadpool_postgres::GenericClient,
    query: &str,
    params: &Params<'_>,
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let statement = client.prepare_cached(query).await?;
    client.query(&statement, params).await
}

/// Prepares `query` on the connection, once (see [`rows`]): then a
/// [`pipelined`] `first` that runs it is sent as it starts.
pub(super) async fn prepare(
    client: &impl deadpool_postgres::GenericClient,
    query: &str,
) -> Result<(), tokio_postgres::Error> {
    client.prepare_cached(query).await.map(drop)
}

/// The one row of `query`, prepared once per connection (see [`rows`]).
pub(super) async fn one(
    client: &impl deadpool_postgres::GenericClient,
    query: &str,
    params: &Params<'_>,
) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
    let statement = client.prepare_cached(query).await?;
    client.query_one(&statement, params).await
}

/// The row of `query`, if any, prepared once per connection (see [`rows`]).
pub(super) async fn at_most_one(
    client: &impl deadpool_postgres::GenericClient,
    query: &str,
    params: &Params<'_>,
) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
    let statement = client.prepare_cached(query).await?;
    client.query_opt(&statement, params).await
}

/// Runs `first` and `then` on one connection with one round trip for
/// both: `then`'s first statement is sent right behind `first`'s, without
/// waiting for its answer (tokio-postgres pipelines what is sent at once),
/// and PostgreSQL runs them in that order. `first`'s failure is the one
/// returned: after it, `then` only meets the failed transaction. For
/// `first`s whose failure ends the change (nothing is tried after it in
/// the same transaction), as `then` does nothing then.
///
/// The order holds only when `first` sends its statement as it starts: a
/// batch, or a statement already prepared on the connection. One still to
/// prepare waits for its Parse, and `then`'s would run before it: where
/// the order matters, prepare it first ([`prepare`]).
pub(super) async fn pipelined<A, B, E>(
    first: impl Future<Output = Result<A, E>>,
    then: impl Future<Output = Result<B, E>>,
) -> Result<(A, B), E> {
    // `join` polls `first` before `then`: its statement is sent first.
    let (first, then) = futures_util::future::join(first, then).await;
    Ok((first?, then?))
}

// ---- Facts, and whom pgusers lists (mod.rs) ----

/// The facts every query agrees on; `$1` is the protected user configured.
pub(super) const DATABASE_FACTS: &str = include_str!("sql/database_facts.sql");
/// Whether role `r` is one pgusers lists (a fragment).
pub(super) const MANAGED: &str = include_str!("sql/managed.sql");
/// Whether role `r` is protected (a fragment).
pub(super) const PROTECTED: &str = include_str!("sql/protected.sql");
/// Whether pgusers' own role may create roles.
pub(super) const ADMIN_MAY_CREATE_ROLES: &str = include_str!("sql/admin_may_create_roles.sql");
/// Whether this connection is encrypted, as PostgreSQL sees it.
pub(super) const CONNECTION_TLS: &str = include_str!("sql/connection_tls.sql");
pub(super) const PING: &str = include_str!("sql/ping.sql");
pub(super) const DATABASE_NAME: &str = include_str!("sql/database_name.sql");
pub(super) const SERVER_VERSION: &str = include_str!("sql/server_version.sql");
/// What a role owns, as shown before deleting it.
pub(super) const OWNED_OBJECTS: &str = include_str!("sql/owned_objects.sql");
/// Why a role is not listed.
pub(super) const UNLISTED_REASON: &str = include_str!("sql/unlisted_reason.sql");
/// The role a change is about, when pgusers manages it, and why not.
pub(super) static MANAGED_TARGET: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/managed_target.sql"),
        database_facts = DATABASE_FACTS,
        restrictions = &*RESTRICTIONS,
        managed = MANAGED,
    )
});
/// The kind of administrator pgusers connects as.
pub(super) const ADMIN_KIND: &str = include_str!("sql/admin_kind.sql");

// ---- Whose users these are (standing.rs) ----

/// Whether a `pg_shdepend` row is one of the grants of making large
/// objects pgusers gives (a fragment).
pub(super) const LARGE_OBJECT_GRANT: &str = include_str!("sql/large_object_grant.sql");
/// Whether a role is a privileged owner of views (a fragment): every
/// table's rights, through a predefined role, count.
pub(super) static PRIVILEGED_OWNER: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/privileged_owner.sql"),
        predefined = "^pg_(read|write)_all_data$",
    )
});
/// Whether a role is a privileged owner of what runs as it: a function
/// with its rights, a materialized view's query, its default privileges,
/// a schema of its (a fragment): every predefined role's rights count.
pub(super) static PRIVILEGED_DEFINER: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/privileged_owner.sql"),
        predefined = "^pg_"
    )
});
/// Whether a relation reads with a privileged owner's rights (a fragment).
pub(super) static PRIVILEGED_RELATION: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/privileged_relation.sql"),
        privileged_owner = &*PRIVILEGED_OWNER,
        privileged_definer = &*PRIVILEGED_DEFINER,
    )
});
/// The groups and their shared dependencies, read without the default
/// privileges that name them (CTEs, a fragment).
pub(super) const GROUP_DEPS: &str = include_str!("sql/group_deps.sql");
/// The CTEs judging whether roles are application users of this database
/// (a fragment, see [`super::standing`]).
pub(super) static RESTRICTIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/restrictions.sql"),
        large_object_grant = LARGE_OBJECT_GRANT,
        privileged_definer = &*PRIVILEGED_DEFINER,
        privileged_relation = &*PRIVILEGED_RELATION,
        group_deps = GROUP_DEPS,
    )
});

// ---- The list (listing.rs) ----

/// The CTE saying whether the readers group only reads (a fragment).
pub(super) const ONLY_READ: &str = include_str!("sql/only_read.sql");
/// Whether role `r` is read-only (a fragment).
pub(super) const READ_ONLY: &str = include_str!("sql/read_only.sql");
/// Whether role `r` is more than an application user here (a fragment).
pub(super) const RESTRICTED: &str = include_str!("sql/restricted.sql");
/// Whether role `r`'s name contains an ASCII search `$2` (a fragment).
pub(super) const NAME_CONTAINS_ASCII: &str = include_str!("sql/name_contains_ascii.sql");
/// Whether role `r`'s name contains search `$2` (a fragment).
pub(super) const NAME_CONTAINS: &str = include_str!("sql/name_contains.sql");
/// How role `r`'s password is stored, from `pg_authid` (a fragment).
pub(super) const PASSWORD_ENCRYPTION: &str = include_str!("sql/password_encryption.sql");

/// What distinguishes one variant of the listing query from another.
pub(super) struct ListingParts<'a> {
    /// `pg_authid` or `pg_roles`.
    pub(super) source: &'a str,
    /// The password's encryption, from `source`.
    pub(super) encryption: &'a str,
    /// CTEs before `scope` (each with its comma), if any.
    pub(super) candidates: &'a str,
    /// The roles to judge, which `restrictions` reads.
    pub(super) scope: &'a str,
    /// CTEs ending with `shown`, the roles of the page (each with its comma).
    pub(super) shown: &'a str,
    /// How many roles match.
    pub(super) total: &'a str,
}

/// The listing query of one variant (see [`super::listing`]).
pub(super) fn listing(parts: &ListingParts<'_>) -> String {
    format!(
        include_str!("sql/listing.sql"),
        database_facts = DATABASE_FACTS,
        only_read = ONLY_READ,
        candidates = parts.candidates,
        scope = parts.scope,
        restrictions = &*RESTRICTIONS,
        shown = parts.shown,
        total = parts.total,
        client_session = CLIENT_SESSION,
        read_only = READ_ONLY,
        protected = PROTECTED,
        encryption = parts.encryption,
        source = parts.source,
    )
}

// ---- Changes (changes.rs) ----

/// The role that already has a name, whatever the case.
pub(super) const NAME_TAKEN: &str = include_str!("sql/name_taken.sql");
/// The name of the role of pgusers' shared lock (its name locks' follow it).
pub(super) const CHANGE_LOCK_ROLE: &str = include_str!("sql/change_lock_role.sql");
/// Which of the names given no role has.
pub(super) const MISSING_ROLES: &str = include_str!("sql/missing_roles.sql");
/// How many sessions a role has open.
pub(super) const SESSIONS_OF_USER: &str = include_str!("sql/sessions_of_user.sql");
/// The tables a delete locks before its name locks.
pub(super) const LOCKABLE_RELATIONS: &str = include_str!("sql/lockable_relations.sql");
/// Whether `pg_locks` row `l` is another session's lock on role `$1` (a fragment).
pub(super) const ROLE_LOCKED: &str = include_str!("sql/role_locked.sql");
/// Whether another session holds a lock on a role.
pub(super) static ROLE_LOCK_HELD: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/role_lock_held.sql"),
        role_locked = ROLE_LOCKED,
    )
});
/// Whether `pg_locks` row `l` is another session's lock on role `$1` or
/// what it owns here (a fragment).
pub(super) static BLOCKING: LazyLock<String> =
    LazyLock::new(|| format!(include_str!("sql/blocking.sql"), role_locked = ROLE_LOCKED,));
/// The sessions holding a deleted user's objects that pgusers may end.
pub(super) static BLOCKERS_TO_END: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/blockers_to_end.sql"),
        blocking = &*BLOCKING,
    )
});
/// The sessions holding a deleted user's objects.
pub(super) static BLOCKING_SESSIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/blocking_sessions.sql"),
        blocking = &*BLOCKING,
    )
});
pub(super) const END_PROCESSES: &str = include_str!("sql/end_processes.sql");
pub(super) const PROCESSES_LEFT: &str = include_str!("sql/processes_left.sql");
/// The roles that may act as a role.
pub(super) const MEMBERS_OF_USER: &str = include_str!("sql/members_of_user.sql");
/// Whether `pg_shdepend` row `s` is an ownership here (a fragment).
pub(super) const OWNED_HERE: &str = include_str!("sql/owned_here.sql");
/// An owned object's key in `pg_shdepend` row `s` (a fragment).
pub(super) const OBJECT_KEY: &str = include_str!("sql/object_key.sql");
/// What a role and the protected user own here, as keys.
pub(super) static OWNED_KEYS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/owned_keys.sql"),
        object_key = OBJECT_KEY,
        owned_here = OWNED_HERE,
    )
});
/// What a deleted user's code made while it was deleted.
pub(super) static MADE_MEANWHILE: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/made_meanwhile.sql"),
        owned_here = OWNED_HERE,
        object_key = OBJECT_KEY,
    )
});
pub(super) const CURRENT_USER: &str = include_str!("sql/current_user.sql");
/// Ends every session of a role.
pub(super) const END_SESSIONS_OF_USER: &str = include_str!("sql/end_sessions_of_user.sql");

// ---- Code a deleted user leaves (code.rs) ----

/// The CTEs finding the code a type makes PostgreSQL run (a fragment).
pub(super) const TYPE_CODE: &str = include_str!("sql/type_code.sql");
/// The functions `pg_depend` row `d` makes PostgreSQL run (a fragment).
pub(super) const REACHED: &str = include_str!("sql/reached.sql");
/// What a person runs to say they reviewed function `f` (a fragment).
pub(super) const REVIEW_STATEMENT: &str = include_str!("sql/review_statement.sql");
/// Comments a deleted user's routines as unreviewed.
pub(super) const MARK_UNREVIEWED: &str = include_str!("sql/mark_unreviewed.sql");
pub(super) const DEFINER_ROUTINES: &str = include_str!("sql/definer_routines.sql");

/// Whether the function of `pg_proc` row `alias` is another role's code
/// (a fragment).
fn others_function(alias: &str) -> String {
    format!(include_str!("sql/others_function.sql"), f = alias)
}

/// The code a role leaves, and what a delete does about each.
pub(super) static LEFT_CODE: LazyLock<String> = LazyLock::new(|| {
    let others_f = others_function("f");
    format!(
        include_str!("sql/left_code.sql"),
        type_code = TYPE_CODE,
        reached = REACHED,
        others_p = others_function("p"),
        others_f = others_f,
        review_f = REVIEW_STATEMENT,
        calls_others_code = format!(
            include_str!("sql/calls_others_code.sql"),
            reached = REACHED,
            others = others_f,
        ),
        partition_key = format!(
            include_str!("sql/partition_key_code.sql"),
            reached = REACHED,
            others = others_f,
            review = REVIEW_STATEMENT,
        ),
        exclusion = format!(
            include_str!("sql/exclusion_code.sql"),
            reached = REACHED,
            others = others_f,
            review = REVIEW_STATEMENT,
        ),
    )
});

// ---- The access doctor (doctor.rs) ----

pub(super) const ROLE_EXISTS: &str = include_str!("sql/role_exists.sql");
pub(super) const SCHEMAS_NAMED_AFTER: &str = include_str!("sql/schemas_named_after.sql");

// ---- A delete's lock-out (lockout.rs) ----

/// A session's start in `pg_stat_activity` row `a` (a fragment).
pub(super) const STARTED: &str = include_str!("sql/started.sql");
/// What a lock-out records.
pub(super) static LOCKOUT_BEFORE: LazyLock<String> =
    LazyLock::new(|| format!(include_str!("sql/lockout_before.sql"), started = STARTED));
/// A role's comment, where a lock-out is recorded.
pub(super) const LOCKOUT_RECORD: &str = include_str!("sql/lockout_record.sql");
/// Whether the delete that wrote a lock-out's record still runs.
pub(super) static DELETE_RUNNING: LazyLock<String> =
    LazyLock::new(|| format!(include_str!("sql/delete_running.sql"), started = STARTED));
pub(super) const ROUTINES_TO_RESTORE: &str = include_str!("sql/routines_to_restore.sql");

// ---- Sessions (sessions.rs) ----

/// Whether `pg_stat_activity` row `a` is a user's session (a fragment).
pub(super) const CLIENT_SESSION: &str = include_str!("sql/client_session.sql");
/// A user's sessions.
pub(super) static USER_SESSIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/user_sessions.sql"),
        client_session = CLIENT_SESSION,
    )
});
/// How many sessions each of some users has open (the kept list's).
pub(super) static SESSIONS_BY_NAME: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/sessions_by_name.sql"),
        client_session = CLIENT_SESSION,
    )
});
/// The marks of pgusers' last changes on the server (the kept list's key).
pub(super) const CHANGE_MARKS: &str = include_str!("sql/change_marks.sql");
/// Ends a user's client sessions.
pub(super) static END_CLIENT_SESSIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/end_client_sessions.sql"),
        client_session = CLIENT_SESSION,
    )
});
pub(super) const LISTED_LOGIN_ROLE: &str = include_str!("sql/listed_login_role.sql");

// ---- What pgusers' role needs (privileges.rs) ----

/// Who may give privileges on schema `public` (a fragment).
pub(super) const PUBLIC_OWNER: &str = include_str!("sql/public_owner.sql");
pub(super) const PRIVILEGES_OF: &str = include_str!("sql/privileges_of.sql");
pub(super) const ADMIN_HAS_ROLE: &str = include_str!("sql/admin_has_role.sql");
pub(super) const MAY_FILL: &str = include_str!("sql/may_fill.sql");
pub(super) static MAY_CREATE_IN_PUBLIC: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/may_create_in_public.sql"),
        public_owner = PUBLIC_OWNER,
    )
});
pub(super) static READERS_STRAYS: LazyLock<String> =
    LazyLock::new(|| format!(include_str!("sql/readers_strays.sql"), since = SINCE));
/// Whether a look reads every row, or those written since a floor.
const SINCE: &str = include_str!("sql/since.sql");
/// Where a look that reads only what changed since the last begins: what
/// it depends on, and the transaction id below which every transaction
/// had ended ([`READERS_STRAYS`], [`RELATION_GAPS`]).
pub(super) const SNAPSHOT_FLOOR: &str = include_str!("sql/snapshot_floor.sql");
pub(super) const GRANTED_LEFT: &str = include_str!("sql/granted_left.sql");
pub(super) const MOVED_TABLES: &str = include_str!("sql/moved_tables.sql");
pub(super) const LARGE_OBJECT_KEEPERS: &str = include_str!("sql/large_object_keepers.sql");
pub(super) const LARGE_OBJECTS_OPEN: &str = include_str!("sql/large_objects_open.sql");

// ---- The groups (groups.rs) ----

/// The CTE of the application schemas (a fragment).
pub(super) const APP_SCHEMAS: &str = include_str!("sql/app_schemas.sql");
/// What the groups lack on the database and the schemas, and the protected
/// user's default privileges, as statements.
pub(super) static GROUP_GAPS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/group_gaps.sql"),
        database_facts = DATABASE_FACTS,
        app_schemas = APP_SCHEMAS,
    )
});
pub(super) const IS_SUPERUSER: &str = include_str!("sql/is_superuser.sql");
/// The relations a role lacks its share of.
pub(super) static RELATION_GAPS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/relation_gaps.sql"),
        database_facts = DATABASE_FACTS,
        app_schemas = APP_SCHEMAS,
        since = SINCE,
        privileged_relation = &*PRIVILEGED_RELATION,
    )
});
/// Roles whose future tables will not reach the groups.
pub(super) static FUTURE_NOT_SHARED: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/future_not_shared.sql"),
        database_facts = DATABASE_FACTS,
        app_schemas = APP_SCHEMAS,
        privileged_owner = &*PRIVILEGED_DEFINER,
    )
});
/// Memberships of the groups that are not what pgusers grants, on
/// PostgreSQL 16+, where a membership has options of its own.
pub(super) static GROUP_MEMBERSHIPS_16: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/group_memberships.sql"),
        database_facts = DATABASE_FACTS,
        set_option = "m.set_option",
        inherit_option = "m.inherit_option",
    )
});
/// The same before 16: every membership allows SET ROLE (which is not
/// what pgusers grants but all there is: not reported), and the member's
/// INHERIT attribute decides.
pub(super) static GROUP_MEMBERSHIPS_14: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/group_memberships.sql"),
        database_facts = DATABASE_FACTS,
        set_option = "false",
        // (A hashed list of the NOINHERIT roles, read once.)
        inherit_option = "m.member NOT IN (SELECT oid FROM pg_roles WHERE NOT rolinherit)",
    )
});

/// [`GROUP_MEMBERSHIPS_16`] or [`GROUP_MEMBERSHIPS_14`], for the server's
/// `version_num`.
pub(super) fn group_memberships(version_num: i32) -> &'static str {
    if version_num >= 160_000 {
        &GROUP_MEMBERSHIPS_16
    } else {
        &GROUP_MEMBERSHIPS_14
    }
}
/// What the groups own.
pub(super) static GROUPS_OWN: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/groups_own.sql"),
        database_facts = DATABASE_FACTS,
        group_deps = GROUP_DEPS,
    )
});
/// What the groups are granted beyond an application user's.
pub(super) static GROUP_BEYOND: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/group_beyond.sql"),
        database_facts = DATABASE_FACTS,
        restrictions = &*RESTRICTIONS,
    )
});
/// The schemas pgusers leaves alone.
pub(super) static LEFT_ALONE: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/left_alone.sql"),
        database_facts = DATABASE_FACTS,
        app_schemas = APP_SCHEMAS,
        privileged_owner = &*PRIVILEGED_DEFINER,
    )
});

// ---- Upgrade steps (upgrade.rs) ----

pub(super) const READERS_HAVE_MEMBERS: &str = include_str!("sql/readers_have_members.sql");
pub(super) const MARK_GRANTS: &str = include_str!("sql/mark_grants.sql");
pub(super) const ROLE_MEMBERSHIPS: &str = include_str!("sql/role_memberships.sql");
pub(super) const USERS_TO_MARK: &str = include_str!("sql/users_to_mark.sql");
pub(super) const CODE_PRIVILEGES_HELD: &str = include_str!("sql/code_privileges_held.sql");
pub(super) const MARKED_USERS: &str = include_str!("sql/marked_users.sql");
pub(super) const IS_MARKED: &str = include_str!("sql/is_marked.sql");
pub(super) const PER_USER_ITEMS: &str = include_str!("sql/per_user_items.sql");
pub(super) const MARKED_WRITERS: &str = include_str!("sql/marked_writers.sql");
pub(super) const READERS_WITH_SET: &str = include_str!("sql/readers_with_set.sql");
/// Triggers marked users put on others' tables.
pub(super) static PLANTED_TRIGGERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        include_str!("sql/planted_triggers.sql"),
        type_code = TYPE_CODE,
        reached = REACHED,
    )
});

/// A query as the test that prepares every query sees it.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Query {
    /// Its file's name, and for a variant, which one.
    pub name: String,
    pub sql: String,
    /// The types of its parameters, declared when prepared as pgusers
    /// prepares it (empty: PostgreSQL infers them).
    pub types: &'static [Type],
    /// The oldest server it is for (`server_version_num`; 0: every one).
    pub since: i32,
}

/// Every query the module runs, composed ones and every variant of the
/// listing query included: none is a fragment or a statement without bind
/// parameters. For `tests/it/roles_queries.rs`, which prepares each one on
/// each PostgreSQL major it is for (`since`).
#[doc(hidden)]
pub fn every_query() -> Vec<Query> {
    let plain = |name: &str, sql: &str| Query {
        name: name.to_owned(),
        sql: sql.to_owned(),
        types: &[],
        since: 0,
    };
    let mut queries = vec![
        plain("database_facts", DATABASE_FACTS),
        plain("admin_may_create_roles", ADMIN_MAY_CREATE_ROLES),
        plain("connection_tls", CONNECTION_TLS),
        plain("ping", PING),
        plain("database_name", DATABASE_NAME),
        plain("server_version", SERVER_VERSION),
        plain("owned_objects", OWNED_OBJECTS),
        plain("unlisted_reason", UNLISTED_REASON),
        plain("managed_target", &MANAGED_TARGET),
        plain("admin_kind", ADMIN_KIND),
        plain("name_taken", NAME_TAKEN),
        plain("change_lock_role", CHANGE_LOCK_ROLE),
        plain("missing_roles", MISSING_ROLES),
        plain("sessions_of_user", SESSIONS_OF_USER),
        plain("lockable_relations", LOCKABLE_RELATIONS),
        plain("role_lock_held", &ROLE_LOCK_HELD),
        plain("blockers_to_end", &BLOCKERS_TO_END),
        plain("blocking_sessions", &BLOCKING_SESSIONS),
        plain("end_processes", END_PROCESSES),
        plain("processes_left", PROCESSES_LEFT),
        plain("members_of_user", MEMBERS_OF_USER),
        plain("owned_keys", &OWNED_KEYS),
        plain("made_meanwhile", &MADE_MEANWHILE),
        plain("current_user", CURRENT_USER),
        plain("end_sessions_of_user", END_SESSIONS_OF_USER),
        plain("sessions_by_name", &SESSIONS_BY_NAME),
        plain("change_marks", CHANGE_MARKS),
        plain("mark_unreviewed", MARK_UNREVIEWED),
        plain("definer_routines", DEFINER_ROUTINES),
        plain("left_code", &LEFT_CODE),
        plain("role_exists", ROLE_EXISTS),
        plain("schemas_named_after", SCHEMAS_NAMED_AFTER),
        plain("lockout_before", &LOCKOUT_BEFORE),
        plain("lockout_record", LOCKOUT_RECORD),
        plain("delete_running", &DELETE_RUNNING),
        plain("routines_to_restore", ROUTINES_TO_RESTORE),
        plain("user_sessions", &USER_SESSIONS),
        plain("end_client_sessions", &END_CLIENT_SESSIONS),
        plain("listed_login_role", LISTED_LOGIN_ROLE),
        plain("privileges_of", PRIVILEGES_OF),
        plain("admin_has_role", ADMIN_HAS_ROLE),
        plain("may_fill", MAY_FILL),
        plain("may_create_in_public", &MAY_CREATE_IN_PUBLIC),
        plain("group_gaps", &GROUP_GAPS),
        plain("relation_gaps", &RELATION_GAPS),
        plain("future_not_shared", &FUTURE_NOT_SHARED),
        plain("left_alone", &LEFT_ALONE),
        Query {
            since: 160_000,
            ..plain("group_memberships (16+)", &GROUP_MEMBERSHIPS_16)
        },
        plain("group_memberships (before 16)", &GROUP_MEMBERSHIPS_14),
        plain("groups_own", &GROUPS_OWN),
        plain("group_beyond", &GROUP_BEYOND),
        plain("is_superuser", IS_SUPERUSER),
        plain("readers_strays", &READERS_STRAYS),
        plain("snapshot_floor", SNAPSHOT_FLOOR),
        plain("granted_left", GRANTED_LEFT),
        plain("moved_tables", MOVED_TABLES),
        plain("large_object_keepers", LARGE_OBJECT_KEEPERS),
        plain("large_objects_open", LARGE_OBJECTS_OPEN),
        plain("readers_have_members", READERS_HAVE_MEMBERS),
        plain("mark_grants", MARK_GRANTS),
        plain("role_memberships", ROLE_MEMBERSHIPS),
        plain("users_to_mark", USERS_TO_MARK),
        plain("code_privileges_held", CODE_PRIVILEGES_HELD),
        plain("marked_users", MARKED_USERS),
        plain("is_marked", IS_MARKED),
        plain("per_user_items", PER_USER_ITEMS),
        plain("marked_writers", MARKED_WRITERS),
        plain("readers_with_set", READERS_WITH_SET),
        plain("planted_triggers", &PLANTED_TRIGGERS),
    ];
    queries.extend(
        super::listing::every_variant()
            .into_iter()
            .map(|(variant, sql)| Query {
                name: format!("listing {variant}"),
                sql,
                types: &super::listing::PARAMETERS,
                since: 0,
            }),
    );
    queries
}

/// A quoted identifier, safe for any name.
pub(crate) fn ident(name: &str) -> String {
    escape_identifier(name)
}

/// A quoted string literal, safe for any text.
pub(crate) fn literal(text: &str) -> String {
    escape_literal(text)
}

/// The `PASSWORD '…'` clause for a password: a SCRAM-SHA-256 verifier with a
/// fresh salt, computed here.
pub(crate) fn password_clause(password: &Password) -> String {
    let verifier = postgres_protocol::password::scram_sha_256(password.expose().as_bytes());
    format!("PASSWORD {}", literal(&verifier))
}

/// The `VALID UNTIL …` and `CONNECTION LIMIT …` clauses of what `change`
/// changes; empty when nothing does. An expiry is its day's first instant
/// in UTC; no expiry is `'infinity'`, no limit `-1`.
pub(crate) fn limits_clauses(change: &LimitsChange) -> String {
    let mut clauses = Vec::new();
    if let Some(expires) = change.expires {
        clauses.push(format!(
            "VALID UNTIL {}",
            expires.map_or_else(
                || literal("infinity"),
                |day| literal(&format!("{day} 00:00:00+00"))
            )
        ));
    }
    if let Some(limit) = change.connection_limit {
        clauses.push(format!(
            "CONNECTION LIMIT {}",
            limit.map_or(-1, |n| i32::from(n.get()))
        ));
    }
    clauses.join(" ")
}

/// What a read-write user gets on tables (and views) it does not own: to
/// read and change their rows, nothing that runs or attaches code (see
/// [`code_privileges`]).
pub(crate) const WRITER_TABLE_PRIVILEGES: [&str; 5] =
    ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"];

/// What a read-write user gets on sequences it does not own (all there is:
/// none runs code).
pub(crate) const WRITER_SEQUENCE_PRIVILEGES: [&str; 3] = ["USAGE", "SELECT", "UPDATE"];

/// The table privileges a user pgusers made never holds on objects it does
/// not own, on PostgreSQL `version_num`: each lets it run code with the
/// owner's rights, or attach code PostgreSQL runs as whoever changes the
/// table.
/// - TRIGGER: its trigger on another role's table runs as whoever writes
///   that table (the application, a superuser).
/// - REFERENCES: the foreign key's check runs as the referenced table's
///   owner, and calls any implicit cast from the user's own column type
///   (`CREATE CAST … AS IMPLICIT` on a type it made): the user's function,
///   run as that owner. (Cascading actions run as the referencing table's
///   owner, the user itself: no gain there.)
/// - MAINTAIN (17+): `VACUUM`, `ANALYZE`, `REFRESH MATERIALIZED VIEW` and
///   `REINDEX` run the table's expressions as its owner, when the user
///   chooses.
pub(crate) fn code_privileges(version_num: i32) -> &'static [&'static str] {
    if version_num >= 170_000 {
        &["TRIGGER", "REFERENCES", "MAINTAIN"]
    } else {
        &["TRIGGER", "REFERENCES"]
    }
}

/// Privileges for a role on tables and sequences there now.
pub(crate) struct OnExisting {
    pub(crate) grantee: String,
    tables: String,
    sequences: String,
}

impl OnExisting {
    /// `tables` on tables, views and foreign tables, `sequences` on
    /// sequences, for `grantee`.
    pub(crate) fn new(grantee: &str, tables: &[&str], sequences: &[&str]) -> Self {
        Self {
            grantee: grantee.to_owned(),
            tables: tables.join(", "),
            sequences: sequences.join(", "),
        }
    }

    /// On each of `objects` (`regclass` text, whether a sequence), in one
    /// statement per kind and thousand objects.
    pub(crate) fn on_many(&self, objects: &[(String, bool)]) -> String {
        let grantee = ident(&self.grantee);
        let mut statements = String::new();
        for (sequences, kind, privileges) in [
            (false, "TABLE", &self.tables),
            (true, "SEQUENCE", &self.sequences),
        ] {
            let names: Vec<&str> = objects
                .iter()
                .filter(|(_, sequence)| *sequence == sequences)
                .map(|(name, _)| name.as_str())
                .collect();
            for chunk in names.chunks(1_000) {
                statements.push_str(&format!(
                    "GRANT {privileges} ON {kind} {} TO {grantee};",
                    chunk.join(", ")
                ));
            }
        }
        statements
    }

    /// On one, named as `regclass` text; `sequence` says which kind.
    pub(crate) fn on_one(&self, name: &str, sequence: bool) -> String {
        self.on_many(&[(name.to_owned(), sequence)])
    }
}

/// Puts pgusers' mark on `users` (quoted, comma-separated): membership of
/// the `mark` role, which gives nothing (on 16+ not even its privileges or
/// `SET ROLE`; before, the role is kept holding nothing, see
/// [`super::upgrade`]).
pub(crate) fn mark(mark: &str, users: &str, version_num: i32) -> String {
    let options = if version_num >= 160_000 {
        " WITH INHERIT FALSE, SET FALSE"
    } else {
        ""
    };
    format!("GRANT {} TO {users}{options};", ident(mark))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConnectionLimit, Expiry, Limits};

    #[tokio::test]
    async fn pipelined_answers_with_the_first_failure_in_the_order_sent() {
        let ok = |n: u8| async move { Ok::<u8, &str>(n) };
        let failed = |why: &'static str| async move { Err::<u8, &str>(why) };
        assert_eq!(pipelined(ok(1), ok(2)).await, Ok((1, 2)));
        assert_eq!(
            pipelined(failed("first"), failed("then")).await,
            Err("first")
        );
        assert_eq!(pipelined(ok(1), failed("then")).await, Err("then"));
        assert_eq!(pipelined(failed("first"), ok(2)).await, Err("first"));
    }

    #[test]
    fn identifiers_are_quoted_so_names_cannot_inject_sql() {
        assert_eq!(ident("my_user"), "\"my_user\"");
        assert_eq!(ident("a\"; DROP ROLE x; --"), "\"a\"\"; DROP ROLE x; --\"");
    }

    /// The files of `sql/` that are fragments of other statements: never
    /// prepared alone.
    const FRAGMENTS: [&str; 29] = [
        "app_schemas",
        "blocking",
        "calls_others_code",
        "client_session",
        "exclusion_code",
        "large_object_grant",
        "managed",
        "name_contains",
        "name_contains_ascii",
        "object_key",
        "only_read",
        "others_function",
        "owned_here",
        "partition_key_code",
        "password_encryption",
        "privileged_owner",
        "privileged_relation",
        "group_deps",
        "protected",
        "public_owner",
        "reached",
        "read_only",
        "restricted",
        "restrictions",
        "review_statement",
        "role_locked",
        "since",
        "started",
        "type_code",
    ];

    fn files() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/roles/sql");
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_file_is_a_query_the_test_prepares_or_a_fragment_of_one() {
        let queries = every_query();
        for (name, _) in files() {
            let prepared = queries
                .iter()
                .any(|q| q.name == name || q.name.starts_with(&format!("{name} ")));
            assert!(
                prepared != FRAGMENTS.contains(&name.as_str()),
                "{name}.sql must be either in every_query() or in FRAGMENTS"
            );
        }
        assert_eq!(
            queries
                .iter()
                .filter(|q| q.name.starts_with("listing "))
                .count(),
            144
        );
    }

    #[test]
    fn every_file_says_what_it_is_and_no_comment_holds_a_hole() {
        for (name, text) in files() {
            assert!(text.starts_with("-- "), "{name}.sql begins with what it is");
            assert!(text.ends_with('\n'), "{name}.sql ends its last line");
            for line in text.lines().filter(|line| line.contains("--")) {
                assert!(
                    !line.contains('{') && !line.contains('}'),
                    "{name}.sql: a brace in a comment would be taken for a hole: {line}"
                );
            }
        }
    }

    #[test]
    fn every_query_is_ascii_so_a_latin1_database_reads_it() {
        for query in every_query() {
            assert!(query.sql.is_ascii(), "{}", query.name);
        }
    }

    #[test]
    fn the_unreviewed_mark_is_the_one_the_delete_writes() {
        let mark = "'pgusers: unreviewed code of deleted user '";
        assert!(MARK_UNREVIEWED.contains(mark));
        assert!(others_function("f").contains(mark));
    }

    #[test]
    fn limits_become_clauses_for_what_changes_and_clear_what_is_removed() {
        let change = |expires: Option<&str>, limit: Option<&str>| {
            limits_clauses(&LimitsChange::from_entry(expires, limit).unwrap())
        };
        assert_eq!(change(None, None), "");
        assert_eq!(change(None, Some("3")), "CONNECTION LIMIT 3");
        assert_eq!(
            change(Some(""), Some(" ")),
            "VALID UNTIL 'infinity' CONNECTION LIMIT -1"
        );
        assert_eq!(
            change(Some("2001-01-01"), None),
            "VALID UNTIL '2001-01-01 00:00:00+00'"
        );
        let set = Limits {
            expires: Some(Expiry::parse("2027-01-31").unwrap()),
            connection_limit: Some(ConnectionLimit::new(5).unwrap()),
        };
        assert_eq!(
            limits_clauses(&LimitsChange::all(set)),
            "VALID UNTIL '2027-01-31 00:00:00+00' CONNECTION LIMIT 5"
        );
        assert_eq!(
            limits_clauses(&LimitsChange::all(Limits::default())),
            "VALID UNTIL 'infinity' CONNECTION LIMIT -1"
        );
    }

    #[test]
    fn the_password_clause_carries_a_verifier_not_the_password() {
        let password = Password::parse("a-very-secret-password-of-30ch").unwrap();
        let clause = password_clause(&password);
        assert!(clause.starts_with("PASSWORD 'SCRAM-SHA-256$4096:"));
        assert!(!clause.contains("very-secret"));
    }
}
