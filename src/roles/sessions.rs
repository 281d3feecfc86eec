//! Who is connected: a user's sessions on the server, and ending them.
//!
//! Sessions are read from `pg_stat_activity`, server-wide (a role logs in
//! to any database it may connect to). Every role may see that a session
//! exists, its database and its application name; its client address,
//! state and start only a superuser, a member of `pg_read_all_stats`, or a
//! role with the user's privileges may see. pgusers never takes a
//! membership just to look: what it may not see is shown as hidden, with
//! the grant that would show it.

use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::privileges::{ensure_privileges_of, refusal};
use super::sql;
use super::{DatabaseUser, Facts, RoleError, RoleManager, changes, managed_target};
use crate::domain::RoleName;

/// One session of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The server process serving it.
    pub pid: i32,
    /// The database it is connected to.
    pub database: Option<String>,
    /// The client's address, `local` over a Unix socket; `None` when hidden.
    pub client_address: Option<String>,
    /// What the client said it is (empty when it said nothing).
    pub application_name: String,
    /// `active`, `idle`, `idle in transaction`…; `None` when hidden.
    pub state: Option<String>,
    /// When it began, in UTC (`2026-11-27T08:00:00Z`); `None` when hidden.
    pub since: Option<String>,
}

impl Session {
    /// Whether pgusers' role may not see this session's details.
    pub fn hidden(&self) -> bool {
        self.since.is_none()
    }
}

/// A user and its sessions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions {
    pub user: DatabaseUser,
    pub sessions: Vec<Session>,
    /// When some details are hidden: why, and the grant that shows them.
    pub hidden_note: Option<String>,
}

/// Why some sessions' details are hidden from `admin`, and the fix.
fn hidden_note(admin: &str) -> String {
    format!(
        "Some client addresses, states and start times are hidden: the role pgusers connects \
         as, \"{}\", may not see them. A superuser shows them with: GRANT pg_read_all_stats TO {};",
        crate::domain::visible(admin),
        sql::ident(admin)
    )
}

impl RoleManager {
    /// The sessions of a user the list shows (any of them: looking changes
    /// nothing), oldest first.
    pub async fn sessions(&self, name: &RoleName) -> Result<Sessions, RoleError> {
        let user = self.find(name).await?;
        let client = self.client().await?;
        let admin = self.facts(&client).await?.admin;
        let fail = |e| RoleError::from_postgres(e, name.as_str());
        let rows = client
            .query(sql::USER_SESSIONS.as_str(), &[&name.as_str()])
            .await
            .map_err(fail)?;
        let sessions: Vec<Session> = rows
            .iter()
            .map(|row| Session {
                pid: row.get(0),
                database: row.get(1),
                client_address: row.get(2),
                application_name: row.get(3),
                state: row.get(4),
                since: row.get(5),
            })
            .collect();
        Ok(Sessions {
            hidden_note: sessions
                .iter()
                .any(Session::hidden)
                .then(|| hidden_note(&admin)),
            user,
            sessions,
        })
    }

    /// Refuses what [`RoleManager::end_sessions`] would refuse, before
    /// asking a person to confirm.
    pub async fn ensure_sessions_endable(&self, name: &RoleName) -> Result<(), RoleError> {
        let client = self.client().await?;
        let facts = self.facts(&client).await?;
        sessions_target(&client, &facts, name).await.map(|_| ())
    }

    /// Ends the sessions of a user of this database (never the protected
    /// user's: that would stop the application; nor a database owner's),
    /// even one pgusers may not otherwise change, waiting a few seconds at
    /// most for them to go. Returns how many were ended. The user may log
    /// in again at once: this ends what is open, it locks nobody out.
    pub async fn end_sessions(&self, name: &RoleName) -> Result<u64, RoleError> {
        let user = name.as_str();
        let mut client = self.change_client().await?;
        let tx = changes::begin(&mut client, &[user]).await?;
        let facts = self.facts(&tx).await?;
        let oid = sessions_target(&tx, &facts, name).await?;
        ensure_privileges_of(&tx, &facts, user, "to end its sessions").await?;
        let fail = |e| refusal(&facts, e, user);
        tx.commit().await.map_err(fail)?;
        let ended: Vec<i32> = client
            .query(sql::END_CLIENT_SESSIONS.as_str(), &[&oid])
            .await
            .map_err(fail)?
            .iter()
            .filter(|row| row.get::<_, bool>(1))
            .map(|row| row.get(0))
            .collect();
        // A process told to end takes a moment to go: wait for those (the
        // user may have logged in again meanwhile), five seconds at most.
        for _ in 0..100 {
            let left: i64 = client
                .query_one(sql::PROCESSES_LEFT, &[&ended])
                .await
                .map_err(fail)?
                .get(0);
            if left == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(ended.len() as u64)
    }
}

/// The oid of a user whose sessions pgusers may end: one it manages, or a
/// user of this database that is more than that (another database's user
/// too, say). Ending its sessions changes nothing else, and a leaked
/// credential must never be beyond reach. Never the protected user, a
/// database's owner or a role pgusers does not list (a superuser, a group,
/// pgusers' own role).
async fn sessions_target(
    client: &impl GenericClient,
    facts: &Facts,
    name: &RoleName,
) -> Result<u32, RoleError> {
    match managed_target(client, facts, name).await {
        Err(refused @ RoleError::NotManageable { .. }) => {
            // Only a user pgusers lists: never a superuser, a group or
            // pgusers' own role, which are not manageable either.
            let listed = client
                .query_opt(sql::LISTED_LOGIN_ROLE, &[&name.as_str()])
                .await
                .map_err(|e| refusal(facts, e, name.as_str()))?;
            listed.map(|row| row.get(0)).ok_or(refused)
        }
        other => other,
    }
}
