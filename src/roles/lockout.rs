//! A delete's lock-out, recorded in the catalog so that any process can
//! undo it.
//!
//! Before it moves anything, a delete locks its user out (`CONNECTION LIMIT
//! 0`) and makes its routines run with their caller's rights, in a
//! transaction of its own. If the deletion then fails, those are put back.
//! The delete's process may not be there to do it: PostgreSQL may go away
//! right after the lock-out commits (and take the connection with it), or a
//! CLI command may end. So the lock-out writes what it changed into the
//! user's comment, in the same transaction ([`MARK`] and [`Before`] as
//! JSON), and whatever pgusers does next to the user (a reset, a new
//! password, a rename, new limits, another delete) first undoes a lock-out
//! whose delete is no longer running (the session that wrote it has
//! ended), in its own transaction, and refuses as busy while it runs.
//! `DROP ROLE` removes the comment with the role.
//!
//! Only a role with CREATEROLE (and, on 16+, ADMIN OPTION on the user) may
//! change a role's comment: the user itself cannot forge or remove it.

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::privileges::{ensure_privileges_of, refusal};
use super::sql::{self, ident};
use super::{Facts, RoleError, code};

/// How a lock-out's comment begins; the JSON of [`Before`] follows.
const MARK: &str = "pgusers: being deleted; before: ";

/// What a lock-out changed, as it was before.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Before {
    /// The connection limit (`-1`: none).
    limit: i32,
    /// The database whose routines these are (`pg_proc` is per database).
    database: u32,
    /// The routines that were SECURITY DEFINER, by oid.
    definers: Vec<u32>,
    /// The user's comment.
    comment: Option<String>,
    /// The delete's session: its process, role and start (microseconds
    /// since 1970). The delete runs while that session lives.
    pid: i32,
    admin: u32,
    started: i64,
}

impl Before {
    fn comment(&self) -> String {
        format!(
            "{MARK}{}",
            serde_json::to_string(self).expect("plain data always serialises")
        )
    }

    fn from_comment(comment: &str) -> Option<Result<Self, serde_json::Error>> {
        comment.strip_prefix(MARK).map(serde_json::from_str)
    }
}

/// Locks user `oid` out in `tx` and records what it changed: its
/// connection limit becomes 0, its SECURITY DEFINER routines SECURITY
/// INVOKER (a call would act as the user however locked out). A lock-out
/// an interrupted delete left is undone first, so what is recorded is
/// always what the user had before any delete.
pub(super) async fn lock_out(
    tx: &impl GenericClient,
    facts: &Facts,
    user: &str,
    oid: u32,
) -> Result<(), RoleError> {
    undo(tx, facts, user, oid).await?;
    let fail = |e| refusal(facts, e, user);
    let row = tx
        .query_one(sql::LOCKOUT_BEFORE.as_str(), &[&oid])
        .await
        .map_err(fail)?;
    let (definers, routines): (Vec<u32>, Vec<String>) = code::definer_routines(tx, oid)
        .await
        .map_err(fail)?
        .into_iter()
        .unzip();
    let before = Before {
        limit: row.get(0),
        database: row.get(1),
        definers,
        comment: row.get(2),
        pid: row.get(3),
        admin: row.get(4),
        started: row.get(5),
    };
    tx.batch_execute(&format!(
        "ALTER ROLE {user_id} CONNECTION LIMIT 0; {routines} COMMENT ON ROLE {user_id} IS {comment};",
        user_id = ident(user),
        routines = code::routines_security(&routines, false),
        comment = sql::literal(&before.comment()),
    ))
    .await
    .map_err(fail)
}

/// Undoes, in `tx`, the lock-out of user `oid` that a delete left, if its
/// record is there: its comment as it was, its routines (those it still
/// owns, still SECURITY INVOKER) running as it again, and its connection
/// limit as it was, unless someone set another since (it is no longer 0).
/// Refuses as busy while the delete runs (its session lives, and is not
/// this one): a running delete's lock-out is not to be undone under it.
/// Only a session of pgusers' own role counts, whose start pgusers always
/// sees: a record naming another role's session (written by another
/// CREATEROLE role) would otherwise keep the user busy for as long as
/// that session lives. A limit below -1 makes the record unreadable.
/// Returns whether there was one.
pub(super) async fn undo(
    tx: &impl GenericClient,
    facts: &Facts,
    user: &str,
    oid: u32,
) -> Result<bool, RoleError> {
    let fail = |e| refusal(facts, e, user);
    let Some(row) = tx
        .query_opt(sql::LOCKOUT_RECORD, &[&oid])
        .await
        .map_err(fail)?
    else {
        return Ok(false);
    };
    let name: String = row.get(0);
    let limit: i32 = row.get(1);
    let here: u32 = row.get(3);
    let before = match row
        .get::<_, Option<String>>(2)
        .as_deref()
        .map(Before::from_comment)
    {
        Some(Some(Ok(before))) if before.limit >= -1 => before,
        Some(Some(read)) => {
            // Not written by pgusers: nothing in it is to be trusted.
            let error = read.err().map(|e| e.to_string()).unwrap_or_default();
            tracing::warn!(%error, user = %name, "a role's comment says it is being deleted, but pgusers cannot read what it had before: left as it is");
            return Ok(false);
        }
        _ => return Ok(false),
    };
    let running: bool = tx
        .query_one(
            sql::DELETE_RUNNING.as_str(),
            &[&before.pid, &before.admin, &before.started],
        )
        .await
        .map_err(fail)?
        .get(0);
    if running {
        return Err(RoleError::Busy);
    }
    let routines: Vec<String> = if before.database == here && !before.definers.is_empty() {
        tx.query(sql::ROUTINES_TO_RESTORE, &[&before.definers, &oid])
            .await
            .map_err(fail)?
            .iter()
            .map(|row| row.get(0))
            .collect()
    } else {
        Vec::new()
    };
    if !routines.is_empty() {
        ensure_privileges_of(tx, facts, &name, "to make its routines run as it again").await?;
    }
    let user_id = ident(&name);
    let mut statements = code::routines_security(&routines, true);
    if limit == 0 {
        statements.push_str(&format!(
            "ALTER ROLE {user_id} CONNECTION LIMIT {};",
            before.limit
        ));
    }
    statements.push_str(&format!(
        "COMMENT ON ROLE {user_id} IS {};",
        before
            .comment
            .as_deref()
            .map_or_else(|| "NULL".to_owned(), sql::literal)
    ));
    tx.batch_execute(&statements).await.map_err(fail)?;
    if before.database != here && !before.definers.is_empty() {
        tracing::warn!(user = %name, "a delete begun in another database locked this user out: its routines there still run with their caller's rights until it is deleted or changed from that database");
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_and_only_with_its_mark() {
        let before = Before {
            limit: -1,
            database: 16384,
            definers: vec![1, 2],
            comment: Some("it's \"ours\"; pgusers: being deleted".into()),
            pid: 4242,
            admin: 10,
            started: 1_796_000_000_000_000,
        };

        let comment = before.comment();

        assert!(comment.starts_with(MARK), "{comment}");
        assert_eq!(Before::from_comment(&comment).unwrap().unwrap(), before);
        assert!(Before::from_comment("a note of the team").is_none());
        assert!(Before::from_comment(&format!("{MARK}{{")).unwrap().is_err());
    }
}
