//! Which kind of administrator pgusers connects as: a superuser, or a
//! non-superuser with CREATEROLE (what managed services give). People need
//! to know it, because it changes what pgusers can do and show.

use std::fmt;

use deadpool_postgres::GenericClient;

use super::{DatabaseUser, PasswordEncryption, RoleError, RoleManager};
use crate::domain::visible;

/// The administrator's power; anything less is refused by
/// [`RoleManager::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminPower {
    Superuser,
    /// CREATEROLE without SUPERUSER, as Amazon RDS, Cloud SQL, Azure and
    /// the like give their "master" role.
    CreateRole,
}

/// A PostgreSQL release, from `server_version_num` (e.g. 160004 is 16.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerVersion(pub i32);

impl ServerVersion {
    pub fn major(self) -> i32 {
        self.0 / 10_000
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Since PostgreSQL 10, the number is major * 10000 + minor.
        write!(f, "{}.{}", self.major(), self.0 % 10_000)
    }
}

/// The role pgusers connects as and what it may do, as read once per pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminKind {
    pub role: String,
    pub power: AdminPower,
    pub create_db: bool,
    /// Whether it may read `pg_authid`, where password verifiers are kept.
    pub reads_authid: bool,
    pub version: ServerVersion,
}

impl AdminKind {
    pub fn is_superuser(&self) -> bool {
        self.power == AdminPower::Superuser
    }

    /// What being this kind of administrator changes for the person using
    /// pgusers, in sentences; empty for a superuser.
    pub fn consequences(&self) -> Vec<&'static str> {
        let mut sentences = Vec::new();
        if !self.is_superuser() {
            sentences.push(if self.version.major() >= 16 {
                "On PostgreSQL 16 and later it manages only roles it has ADMIN OPTION on \
                 (pgusers gets it on the users it creates); roles made by others are listed \
                 as not manageable."
            } else {
                "On PostgreSQL 15 and earlier CREATEROLE lets it manage any role that is not \
                 a superuser."
            });
        }
        if !self.reads_authid {
            sentences.push(UNKNOWN_ENCRYPTION);
        }
        sentences
    }
}

impl fmt::Display for AdminKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let power = match self.power {
            AdminPower::Superuser => "a superuser",
            AdminPower::CreateRole if self.create_db => {
                "a non-superuser with CREATEROLE and CREATEDB (as managed services give)"
            }
            AdminPower::CreateRole => "a non-superuser with CREATEROLE (as managed services give)",
        };
        write!(
            f,
            "\"{}\", {power}, on PostgreSQL {}",
            visible(&self.role),
            self.version
        )
    }
}

/// Why a list shows "unknown" password encryption, and what it means.
pub const UNKNOWN_ENCRYPTION: &str = "Password encryption shows \"unknown\" because the role \
     pgusers connects as cannot read pg_authid, where PostgreSQL keeps passwords (as on managed \
     services, where it is not a superuser). Passwords pgusers sets are always stored as \
     SCRAM-SHA-256.";

/// The explanation to show beside `users`, when any of them shows "unknown".
pub fn unknown_encryption_note(users: &[DatabaseUser]) -> Option<&'static str> {
    users
        .iter()
        .any(|user| user.password_encryption == PasswordEncryption::Unknown)
        .then_some(UNKNOWN_ENCRYPTION)
}

impl RoleManager {
    /// Which kind of administrator pgusers connects as (asked once per
    /// pool, then remembered until PostgreSQL refuses what it allowed).
    pub async fn admin_kind(&self) -> Result<AdminKind, RoleError> {
        if let Some(kind) = self.remembered_kind() {
            return Ok(kind);
        }
        let client = self.client().await?;
        self.admin_kind_on(&client).await
    }

    /// How a password pgusers sets shows in its users list: SCRAM-SHA-256
    /// (pgusers sends only SCRAM verifiers), or unknown when it may not
    /// read `pg_authid`. Known before a change, so that answering the
    /// change needs nothing from the database once it is done.
    pub async fn encryption_it_sets(&self) -> Result<PasswordEncryption, RoleError> {
        Ok(if self.admin_kind().await?.reads_authid {
            PasswordEncryption::ScramSha256
        } else {
            PasswordEncryption::Unknown
        })
    }

    /// The same, asked on a connection the caller already holds.
    pub(super) async fn admin_kind_on(
        &self,
        client: &impl GenericClient,
    ) -> Result<AdminKind, RoleError> {
        if let Some(kind) = self.remembered_kind() {
            return Ok(kind);
        }
        let kind = read_admin_kind(client).await?;
        *self.admin_kind.write().unwrap_or_else(|e| e.into_inner()) = Some(kind.clone());
        Ok(kind)
    }

    fn remembered_kind(&self) -> Option<AdminKind> {
        self.admin_kind
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether `error` is PostgreSQL refusing `pg_authid` to a statement
    /// that read it (`read_authid`: the kind remembered said pgusers' role
    /// could; someone took the right back since, or the group that gave
    /// it): then the kind is forgotten, if no other request did so first,
    /// to be asked again, and the caller may try once more.
    pub(super) fn forget_kind_if_refused(
        &self,
        error: &tokio_postgres::Error,
        read_authid: bool,
    ) -> bool {
        if !read_authid
            || error.code() != Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
        {
            return false;
        }
        let mut kind = self.admin_kind.write().unwrap_or_else(|e| e.into_inner());
        if kind.as_ref().is_some_and(|kind| kind.reads_authid) {
            *kind = None;
        }
        true
    }
}

async fn read_admin_kind(client: &impl GenericClient) -> Result<AdminKind, RoleError> {
    let row = client
        .query_one(super::sql::ADMIN_KIND, &[])
        .await
        .map_err(RoleError::server)?;
    Ok(AdminKind {
        role: row.get(0),
        power: if row.get(1) {
            AdminPower::Superuser
        } else {
            AdminPower::CreateRole
        },
        create_db: row.get(2),
        reads_authid: row.get(3),
        version: ServerVersion(row.get(4)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(role: &str, power: AdminPower, create_db: bool, version: i32) -> AdminKind {
        AdminKind {
            role: role.to_owned(),
            power,
            create_db,
            reads_authid: power == AdminPower::Superuser,
            version: ServerVersion(version),
        }
    }

    #[test]
    fn a_superuser_admin_is_described_in_words_with_its_version() {
        let admin = kind("postgres", AdminPower::Superuser, true, 150_018);

        assert_eq!(
            admin.to_string(),
            "\"postgres\", a superuser, on PostgreSQL 15.18"
        );
        assert!(admin.consequences().is_empty());
    }

    #[test]
    fn a_createrole_admin_is_described_as_a_managed_services_non_superuser() {
        let plain = kind("app_master", AdminPower::CreateRole, false, 160_004);
        let with_db = kind("rds_master", AdminPower::CreateRole, true, 140_012);

        assert_eq!(
            plain.to_string(),
            "\"app_master\", a non-superuser with CREATEROLE (as managed services give), \
             on PostgreSQL 16.4"
        );
        assert_eq!(
            with_db.to_string(),
            "\"rds_master\", a non-superuser with CREATEROLE and CREATEDB (as managed \
             services give), on PostgreSQL 14.12"
        );
    }

    #[test]
    fn a_createrole_admin_says_what_its_version_lets_it_manage_and_why_encryption_is_unknown() {
        let new_rules = kind("m", AdminPower::CreateRole, false, 170_002).consequences();
        let old_rules = kind("m", AdminPower::CreateRole, false, 150_010).consequences();

        assert!(new_rules[0].contains("only roles it has ADMIN OPTION on"));
        assert!(old_rules[0].contains("any role that is not a superuser"));
        assert_eq!(new_rules[1], UNKNOWN_ENCRYPTION);
        assert_eq!(old_rules.len(), 2);
    }

    #[test]
    fn a_name_with_hidden_characters_is_shown_escaped() {
        let admin = kind("evil\x1b[2J", AdminPower::Superuser, false, 180_000);
        assert!(admin.to_string().starts_with("\"evil\\x1b[2J\""));
    }

    #[test]
    fn the_unknown_encryption_note_appears_only_when_a_user_shows_unknown() {
        let user = |encryption| DatabaseUser {
            username: "u".into(),
            read_only: false,
            protected: false,
            password_encryption: encryption,
            not_manageable: None,
            sessions: 0,
            expires: None,
            expired: false,
            connection_limit: None,
        };

        assert_eq!(
            unknown_encryption_note(&[user(PasswordEncryption::ScramSha256)]),
            None
        );
        assert_eq!(
            unknown_encryption_note(&[
                user(PasswordEncryption::ScramSha256),
                user(PasswordEncryption::Unknown)
            ]),
            Some(UNKNOWN_ENCRYPTION)
        );
    }
}
