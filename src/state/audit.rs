//! The audit log: every change, every refused attempt, every login. It holds
//! who, what, where and how it ended; never a password or a verifier.

use std::sync::PoisonError;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{StateError, StateStore};
use crate::roles::RoleError;

/// How long recording an event may hold up the answer to what it records.
pub const RECORD_WITHIN: Duration = Duration::from_secs(5);

/// Where an action came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Dashboard,
    Cli,
    /// A script, with an operator's API token.
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dashboard => "dashboard",
            Self::Cli => "cli",
            Self::Api => "api",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateUser,
    SetPassword,
    ResetPassword,
    DeleteUser,
    EndSessions,
    SetLimits,
    FixAccess,
    Login,
    FailedLogin,
    CreateToken,
    RevokeToken,
    UnlockLogins,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateUser => "create user",
            Self::SetPassword => "set password",
            Self::ResetPassword => "reset password",
            Self::DeleteUser => "delete user",
            Self::EndSessions => "end sessions",
            Self::SetLimits => "set limits",
            Self::FixAccess => "fix access",
            Self::Login => "login",
            Self::FailedLogin => "failed login",
            Self::CreateToken => "create API token",
            Self::RevokeToken => "revoke API token",
            Self::UnlockLogins => "unlock logins",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// pgusers or PostgreSQL said no (exists, protected, unknown, …).
    Refused,
    /// It could not be done (the database was unavailable, an error).
    Failed,
}

impl Outcome {
    /// How a role change ended, with the reason when it did not succeed.
    pub fn of<T>(result: &Result<T, RoleError>) -> (Self, Option<String>) {
        match result {
            Ok(_) => (Self::Ok, None),
            Err(error) if error.is_refusal() => (Self::Refused, Some(error.to_string())),
            Err(error) => (Self::Failed, Some(error.to_string())),
        }
    }

    /// How a change to the dashboard's own state ended (an API token
    /// created or revoked), with the reason when it did not succeed.
    pub fn of_state<T>(result: &Result<T, StateError>) -> (Self, Option<String>) {
        match result {
            Ok(_) => (Self::Ok, None),
            Err(error) if error.is_refusal() => (Self::Refused, Some(error.to_string())),
            Err(error) => (Self::Failed, Some(error.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// One thing to record.
#[derive(Debug, Clone)]
pub struct Event {
    /// The operator's name, or `cli`.
    pub actor: String,
    pub source: Source,
    pub action: Action,
    pub database: Option<String>,
    /// The database user acted on (or the API token, by its id).
    pub target: Option<String>,
    pub outcome: Outcome,
    /// Why it was refused or failed: a message already fit to show.
    pub detail: Option<String>,
    pub client_address: Option<String>,
}

/// One recorded entry, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// UTC, RFC 3339.
    pub at: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub database: Option<String>,
    pub target: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub client_address: Option<String>,
}

impl Entry {
    /// The time as people read it: `2026-11-26 02:48:30` (UTC).
    pub fn time(&self) -> String {
        self.at.replace('T', " ").trim_end_matches('Z').to_owned()
    }

    /// The database user acted on: none for a fix, whose target is the
    /// finding, or for an API token's change, whose target is its id.
    pub fn user(&self) -> Option<&str> {
        match self.about_other() {
            Some(_) => None,
            None => self.target.as_deref(),
        }
    }

    /// What else than a user the entry is about, in words: `token 12`, a
    /// finding's key.
    pub fn about_other(&self) -> Option<String> {
        let target = self.target.as_deref()?;
        match self.action.as_str() {
            action if action == Action::FixAccess.as_str() => Some(format!("finding {target}")),
            action
                if action == Action::CreateToken.as_str()
                    || action == Action::RevokeToken.as_str() =>
            {
                Some(format!("token {target}"))
            }
            action if action == Action::UnlockLogins.as_str() => Some(format!("address {target}")),
            _ => None,
        }
    }
}

/// A page of entries, newest first.
#[derive(Debug, Clone)]
pub struct EntriesPage {
    pub entries: Vec<Entry>,
    /// Whether older entries follow.
    pub more: bool,
}

/// Old entries are deleted at most this often per process.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How long an entry the state database could not take is tried again, in
/// the background, before it is given up (and logged as lost).
const RETRY_FOR: Duration = Duration::from_secs(15 * 60);
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Writes `event` as having happened at `at` (seconds since the epoch).
async fn insert(
    client: &deadpool_postgres::Client,
    event: &Event,
    at: f64,
) -> Result<(), tokio_postgres::Error> {
    // Prepared once per connection: every change writes one.
    let statement = client
        .prepare_cached(
            "INSERT INTO audit_log
               (at, actor, source, action, database_name, target, outcome, detail, client_address)
             VALUES (to_timestamp($9), $1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &event.actor,
                &event.source.as_str(),
                &event.action.as_str(),
                &event.database,
                &event.target,
                &event.outcome.as_str(),
                &event.detail,
                &event.client_address,
                &at,
            ],
        )
        .await
        .map(drop)
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

impl StateStore {
    /// Records an event; now and then (at most hourly) also deletes the
    /// entries older than the retention, so the log cannot grow forever.
    /// Riding on a write needs no task of its own, and a dashboard that
    /// records nothing has nothing new to delete.
    pub async fn record(&self, event: &Event) -> Result<(), StateError> {
        self.record_at(event, now_seconds()).await
    }

    async fn record_at(&self, event: &Event, at: f64) -> Result<(), StateError> {
        let client = self.client().await?;
        insert(&client, event, at).await?;
        if self.audit_pruning_due()
            && let Err(error) = self.forget_old_audit_entries().await
        {
            tracing::warn!(error = %crate::failure::chain(&error), "deleting old audit entries failed");
        }
        Ok(())
    }

    /// Whether an hour has passed since the last pruning (or none was
    /// done), counting this call as the next one.
    fn audit_pruning_due(&self) -> bool {
        let mut last = self
            .audit_pruned_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < PRUNE_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Deletes the audit entries older than the retention; returns how many.
    pub async fn forget_old_audit_entries(&self) -> Result<u64, StateError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "DELETE FROM audit_log WHERE at < now() - make_interval(secs => $1)",
                &[&self.audit_retention.as_secs_f64()],
            )
            .await?)
    }

    /// Records an event; a failure to record is logged, never fatal to the
    /// action it describes (which has already happened). Nor does it hold
    /// that action's answer (which may carry the only copy of a generated
    /// password) for longer than [`RECORD_WITHIN`]: a state database that
    /// slow (a lock held on the audit log) is logged and not waited for.
    pub async fn record_or_warn(&self, event: &Event) {
        let action = event.action.as_str();
        match tokio::time::timeout(RECORD_WITHIN, self.record(event)).await {
            Ok(Ok(())) => {}
            // No dashboard has created the audit log yet: nothing to record into.
            Ok(Err(StateError::Missing(_))) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %crate::failure::chain(&error), action, "recording an audit entry failed")
            }
            Err(_) => tracing::warn!(
                action,
                "recording an audit entry took longer than {} s; not waiting",
                RECORD_WITHIN.as_secs()
            ),
        }
    }

    /// Records an event for the dashboard, which keeps running: when the
    /// state database is unavailable (PostgreSQL stopped between the change
    /// and its entry), the entry is tried again in the background, with its
    /// original time, until the database is back (at most [`RETRY_FOR`]),
    /// so a change made just before an outage still has its entry. The
    /// answer does not wait for it.
    ///
    /// Nor does it hold the answer (which may carry the only copy of a
    /// generated password) for longer than [`RECORD_WITHIN`]: a state
    /// database that slow (a lock held on the audit log) is logged and not
    /// waited for; the statement sent is written once the lock is released.
    pub async fn record_or_retry(&self, event: &Event) {
        let at = now_seconds();
        let Ok(recorded) = tokio::time::timeout(RECORD_WITHIN, self.record_at(event, at)).await
        else {
            tracing::warn!(
                action = event.action.as_str(),
                "recording an audit entry took longer than {} s; not waiting",
                RECORD_WITHIN.as_secs()
            );
            return;
        };
        match recorded {
            Ok(()) | Err(StateError::Missing(_)) => {}
            Err(StateError::Unavailable(reason)) => {
                tracing::warn!(%reason, action = event.action.as_str(), "the state database is unavailable; the audit entry will be written when it is back");
                let (pool, event) = (self.pool.clone(), event.clone());
                tokio::spawn(async move {
                    let deadline = Instant::now() + RETRY_FOR;
                    while Instant::now() < deadline {
                        tokio::time::sleep(RETRY_EVERY).await;
                        let Ok(client) = pool.get().await else {
                            continue;
                        };
                        match insert(&client, &event, at).await.map_err(StateError::from) {
                            Ok(()) => return,
                            Err(error) if error.is_unavailable() => {}
                            Err(error) => {
                                tracing::error!(error = %crate::failure::chain(&error), action = event.action.as_str(), target = ?event.target, "an audit entry could not be written");
                                return;
                            }
                        }
                    }
                    tracing::error!(action = event.action.as_str(), target = ?event.target, "an audit entry was lost: the state database stayed unavailable");
                });
            }
            Err(error) => {
                tracing::warn!(error = %crate::failure::chain(&error), action = event.action.as_str(), "recording an audit entry failed")
            }
        }
    }

    /// Entries `page * per_page ..` newest first (pages count from 0).
    pub async fn audit_entries(&self, page: u32, per_page: u32) -> Result<EntriesPage, StateError> {
        let client = self.client().await?;
        let limit = i64::from(per_page) + 1;
        let offset = i64::from(page) * i64::from(per_page);
        let rows = client
            .query(
                "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                        actor, source, action, database_name, target, outcome, detail, client_address
                   FROM audit_log ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2",
                &[&limit, &offset],
            )
            .await?;
        let mut entries: Vec<Entry> = rows
            .iter()
            .map(|row| Entry {
                at: row.get(0),
                actor: row.get(1),
                source: row.get(2),
                action: row.get(3),
                database: row.get(4),
                target: row.get(5),
                outcome: row.get(6),
                detail: row.get(7),
                client_address: row.get(8),
            })
            .collect();
        let more = entries.len() > per_page as usize;
        entries.truncate(per_page as usize);
        Ok(EntriesPage { entries, more })
    }
}
