//! The access doctor: what drifted from what pgusers sets up, in words,
//! with the exact SQL that fixes it, and the fix.
//!
//! What it finds, in one database:
//! - relations in `public` the read-only users cannot read (made by a role
//!   pgusers does not manage, restored from a dump…);
//! - roles that create tables in `public` whose future tables the
//!   read-only users will not read (no default privileges for them);
//! - read-write users missing what pgusers gives a read-write user;
//! - users whose password is stored as MD5, users that may log in with no
//!   password, expired users, and roles pgusers cannot manage.
//!
//! The first three have a fix pgusers runs: the statements pgusers itself
//! runs when it creates users, for that one object or role, in a change of
//! their own that checks the finding is gone before it commits. The others
//! are the person's to decide (a reset changes an application's password),
//! so they name the action that fixes them instead.

use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::privileges::{ensure_privileges_of, refusal};
use super::sql::{self, ident};
use super::{Facts, PasswordEncryption, RoleError, RoleManager, changes};

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The read-only users cannot read `relation` (a `kind`, owned by `owner`).
    Unreadable {
        relation: String,
        relation_kind: String,
        owner: String,
    },
    /// What `role` creates in `public` from now on, the read-only users
    /// will not read.
    FutureTablesUnreadable { role: String },
    /// Read-write user `user` lacks some of what read-write users get.
    ReadWriteMissing { user: String, missing: Vec<String> },
    /// `user`'s password is stored as MD5.
    Md5Password { user: String },
    /// `user` may log in and has no password (only a method that needs
    /// none, such as `trust` or `peer`, lets it in).
    NoPassword { user: String },
    /// `user`'s password expired.
    Expired { user: String, at: String },
    /// pgusers will not change `role`.
    NotManageable { role: String, reason: String },
}

/// One finding: what is wrong, in words, and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Names the finding among the others, stably (`unreadable:public.t`):
    /// a Fix button sends it, and the fix is looked up again from it.
    pub key: String,
    #[serde(flatten)]
    pub problem: Problem,
    /// What is wrong, in a sentence.
    pub words: String,
    /// The statements pgusers runs to fix it, when it fixes it.
    pub fix_sql: Option<String>,
    /// What a person does about it, when pgusers does not fix it.
    pub advice: Option<String>,
}

impl Finding {
    pub fn fixable(&self) -> bool {
        self.fix_sql.is_some()
    }

    /// The user a finding is about, when it is about a user the dashboard
    /// has pages for.
    pub fn user(&self) -> Option<&str> {
        match &self.problem {
            Problem::ReadWriteMissing { user, .. }
            | Problem::Md5Password { user }
            | Problem::NoPassword { user }
            | Problem::Expired { user, .. } => Some(user),
            _ => None,
        }
    }
}

/// Relations of `public` the readers group (`$1`) may not read, with their
/// kind and owner.
const UNREADABLE: &str = "
    SELECT c.oid::regclass::text,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                          WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                          WHEN 'f' THEN 'foreign table' ELSE 'sequence' END,
           pg_get_userbyid(c.relowner)::text, c.relkind = 'S'
      FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
       AND NOT CASE WHEN c.relkind = 'S'
                    THEN has_sequence_privilege($1::text, c.oid, 'SELECT')
                    ELSE has_table_privilege($1::text, c.oid, 'SELECT') END
     ORDER BY 1";

/// Roles that make tables in `public` (they own one, or may log in and
/// create there: superusers and pgusers' own role only count once they
/// own one, as they may create anywhere) whose default privileges there,
/// or everywhere, do not grant the readers group (`$1`) SELECT on tables.
const FUTURE_UNREADABLE: &str = "
    SELECT r.rolname::text
      FROM pg_roles r
     WHERE r.rolname <> $1 AND r.rolname !~ '^pg_'
       AND (EXISTS (SELECT 1 FROM pg_class c
                     WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = r.oid
                       AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S'))
            OR (r.rolcanlogin AND NOT r.rolsuper AND r.rolname <> current_user
                AND has_schema_privilege(r.oid, 'public', 'CREATE')))
       AND NOT EXISTS (
             SELECT 1 FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
              WHERE d.defaclrole = r.oid AND d.defaclobjtype = 'r'
                AND d.defaclnamespace IN (0, 'public'::regnamespace)
                AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)
                AND a.privilege_type = 'SELECT')
     ORDER BY 1";

/// The relations of `public` (as `c`) read-write user `$1` lacks one of
/// the privileges pgusers gives read-write users on (see
/// [`sql::read_write_grants`]).
const LACKED_RELATIONS: &str = "
      FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
       AND NOT CASE WHEN c.relkind = 'S'
                    THEN has_sequence_privilege($1::text, c.oid, 'USAGE')
                         AND has_sequence_privilege($1::text, c.oid, 'SELECT')
                         AND has_sequence_privilege($1::text, c.oid, 'UPDATE')
                    ELSE has_table_privilege($1::text, c.oid, 'SELECT')
                         AND has_table_privilege($1::text, c.oid, 'INSERT')
                         AND has_table_privilege($1::text, c.oid, 'UPDATE')
                         AND has_table_privilege($1::text, c.oid, 'DELETE')
                         AND has_table_privilege($1::text, c.oid, 'TRUNCATE')
                         AND has_table_privilege($1::text, c.oid, 'REFERENCES')
                         AND has_table_privilege($1::text, c.oid, 'TRIGGER') END";

/// What read-write user `$1` lacks of what pgusers gives read-write users,
/// one line each; none when nothing.
fn read_write_missing_query() -> String {
    format!(
        "SELECT what FROM (
           SELECT 'CREATE, CONNECT and TEMPORARY on the database' AS what, 0 AS o
            WHERE NOT (has_database_privilege($1::text, current_database(), 'CREATE')
                       AND has_database_privilege($1::text, current_database(), 'CONNECT')
                       AND has_database_privilege($1::text, current_database(), 'TEMPORARY'))
           UNION ALL
           SELECT 'USAGE and CREATE on schema public', 1
            WHERE NOT (has_schema_privilege($1::text, 'public', 'USAGE')
                       AND has_schema_privilege($1::text, 'public', 'CREATE'))
           UNION ALL
           SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' ELSE 'table ' END
                  || c.oid::regclass::text, 2
           {LACKED_RELATIONS}
         ) missing ORDER BY o, what"
    )
}

/// The owners of the relations in `public` read-write user `$1` lacks a
/// privilege on.
fn owners_of_missing_query() -> String {
    format!("SELECT DISTINCT pg_get_userbyid(c.relowner)::text {LACKED_RELATIONS}")
}

/// Whether user `$1` carries pgusers' mark of a read-write user: default
/// privileges from the protected user (`$2`) in `public` that grant it.
const MADE_READ_WRITE: &str = "
    SELECT EXISTS (
      SELECT 1 FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
       WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $2)
         AND d.defaclnamespace = 'public'::regnamespace AND d.defaclobjtype = 'r'
         AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1))";

/// How many missing grants a finding names before "and N more".
const NAMED: usize = 10;

impl RoleManager {
    /// Everything the doctor finds in this database, in the order above.
    pub async fn check_access(&self) -> Result<Vec<Finding>, RoleError> {
        let users = self.list().await?;
        let client = self.client().await?;
        let facts = self.facts(&client).await?;
        let mut findings = drift(&client, &facts, &users).await?;
        for user in &users {
            let name = &user.username;
            if let Some(reason) = user.not_manageable.as_ref().filter(|_| !user.protected) {
                findings.push(not_manageable(name, &reason.to_string()));
                continue;
            }
            if user.password_encryption == PasswordEncryption::Md5 {
                findings.push(md5(name));
            }
            if user.password_encryption == PasswordEncryption::NoPassword {
                findings.push(no_password(name));
            }
            if user.expired {
                let at = user.expires_shown().unwrap_or_default();
                findings.push(expired(name, &at));
            }
        }
        Ok(findings)
    }

    /// Runs the fix of the finding `key` names, if it is still found, in a
    /// change of its own that commits only once the finding is gone.
    /// Returns the finding fixed, or `None` when there is nothing to fix
    /// (fixed meanwhile, or not a finding pgusers fixes).
    pub async fn fix_access(&self, key: &str) -> Result<Option<Finding>, RoleError> {
        let users = self.list().await?;
        let mut client = self.client().await?;
        let tx = changes::begin(&mut client, "").await?;
        let facts = self.facts(&tx).await?;
        let found = drift(&tx, &facts, &users).await?;
        let Some(finding) = found.into_iter().find(|f| f.key == key) else {
            return Ok(None);
        };
        let Some(fix) = &finding.fix_sql else {
            return Ok(None);
        };
        let fail = |e| refusal(&facts, e, "");
        // Whose privileges the fix needs: granting on a relation is its
        // owner's to do, default privileges for a role that role's.
        let acting_for: Vec<(String, &str)> = match &finding.problem {
            Problem::Unreadable { owner, .. } => vec![(owner.clone(), "to grant on what it owns")],
            Problem::FutureTablesUnreadable { role } => {
                vec![(role.clone(), "to change default privileges for it")]
            }
            Problem::ReadWriteMissing { user, .. } => {
                let mut roles = vec![(
                    facts.protected.clone(),
                    "to grant what it owns and change default privileges for it",
                )];
                for row in tx
                    .query(&owners_of_missing_query(), &[user])
                    .await
                    .map_err(fail)?
                {
                    roles.push((row.get(0), "to grant on what it owns"));
                }
                roles
            }
            _ => Vec::new(),
        };
        for (role, purpose) in &acting_for {
            act_for(&tx, &facts, role, purpose, fix).await?;
        }
        tx.batch_execute(fix).await.map_err(fail)?;
        // GRANT only warns about what it may not grant: look again.
        let after = drift(&tx, &facts, &users).await?;
        if let Some(left) = after.iter().find(|f| f.key == key) {
            return Err(RoleError::Misconfigured(
                format!(
                    "The fix ran, but PostgreSQL did not grant everything (the role pgusers \
                     connects as, \"{}\", may not grant what another role owns), so nothing was \
                     changed. Still: {} Run the fix as the objects' owner or a superuser.",
                    crate::domain::visible(&facts.admin),
                    left.words
                )
                .into(),
            ));
        }
        tx.commit().await.map_err(fail)?;
        Ok(Some(finding))
    }
}

/// Takes the privileges of `role` for a fix, as a change does for the
/// users it manages; for any other role only if pgusers' role has them
/// already: taking a membership in a role it does not manage could give
/// pgusers' role that role's powers (a `pg_*` membership, CREATEROLE), so
/// the refusal gives `fix`, to run as `role` or a superuser.
async fn act_for(
    client: &impl GenericClient,
    facts: &Facts,
    role: &str,
    purpose: &str,
    fix: &str,
) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, role);
    let has = client
        .query_one(
            "SELECT pg_has_role(current_user, oid, 'USAGE') FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .map_err(fail)?
        .get::<_, bool>(0);
    if facts.admin_super || has {
        return Ok(());
    }
    let managed = match crate::domain::RoleName::parse(role) {
        Ok(name) if role != facts.protected => {
            super::managed_target(client, facts, &name).await.is_ok()
        }
        _ => role == facts.protected,
    };
    if !managed {
        return Err(RoleError::MissingPrivilege {
            admin: facts.admin.clone(),
            needs: format!(
                "the privileges of \"{role}\" {purpose}, which pgusers takes only for the users \
                 it manages and the protected user"
            ),
            fix: format!("{} (as \"{role}\" or a superuser)", fix.trim()),
        });
    }
    ensure_privileges_of(client, facts, role, purpose).await
}

/// The findings pgusers fixes: what drifted from its grants.
async fn drift(
    client: &impl GenericClient,
    facts: &Facts,
    users: &[super::DatabaseUser],
) -> Result<Vec<Finding>, RoleError> {
    let fail = |e| RoleError::from_postgres(e, "");
    let mut findings = Vec::new();
    let readers_exist = client
        .query_opt(
            "SELECT 1 FROM pg_roles WHERE rolname = $1",
            &[&facts.readers],
        )
        .await
        .map_err(fail)?
        .is_some();
    if readers_exist {
        for row in client
            .query(UNREADABLE, &[&facts.readers])
            .await
            .map_err(fail)?
        {
            findings.push(unreadable(
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                &facts.readers,
            ));
        }
        for row in client
            .query(FUTURE_UNREADABLE, &[&facts.readers])
            .await
            .map_err(fail)?
        {
            findings.push(future_unreadable(row.get(0), &facts.readers));
        }
    }
    for user in users.iter().filter(|u| u.manageable() && !u.read_only) {
        let marked: bool = client
            .query_one(MADE_READ_WRITE, &[&user.username, &facts.protected])
            .await
            .map_err(fail)?
            .get(0);
        if !marked {
            continue;
        }
        let missing: Vec<String> = client
            .query(&read_write_missing_query(), &[&user.username])
            .await
            .map_err(fail)?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if !missing.is_empty() {
            findings.push(read_write_missing(&user.username, missing, facts));
        }
    }
    Ok(findings)
}

fn unreadable(
    relation: String,
    relation_kind: String,
    owner: String,
    sequence: bool,
    readers: &str,
) -> Finding {
    let what = if sequence { "SEQUENCE" } else { "TABLE" };
    Finding {
        key: format!("unreadable:{relation}"),
        words: format!(
            "The read-only users cannot read {relation_kind} {relation} (owned by \"{owner}\")."
        ),
        fix_sql: Some(format!(
            "GRANT SELECT ON {what} {relation} TO {};",
            ident(readers)
        )),
        advice: None,
        problem: Problem::Unreadable {
            relation,
            relation_kind,
            owner,
        },
    }
}

fn future_unreadable(role: String, readers: &str) -> Finding {
    Finding {
        key: format!("future:{role}"),
        words: format!(
            "Tables and sequences \"{role}\" creates in public from now on will not be readable \
             by the read-only users: no default privileges give them SELECT."
        ),
        fix_sql: Some(sql::readers_follow(&role, readers)),
        advice: None,
        problem: Problem::FutureTablesUnreadable { role },
    }
}

fn read_write_missing(user: &str, missing: Vec<String>, facts: &Facts) -> Finding {
    let mut named = missing
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if missing.len() > NAMED {
        named.push_str(&format!(" and {} more", missing.len() - NAMED));
    }
    Finding {
        key: format!("read-write:{user}"),
        words: format!("Read-write user \"{user}\" lacks what read-write users get: {named}."),
        fix_sql: Some(sql::read_write_grants(
            user,
            &facts.database,
            &facts.protected,
        )),
        advice: None,
        problem: Problem::ReadWriteMissing {
            user: user.to_owned(),
            missing,
        },
    }
}

fn md5(user: &str) -> Finding {
    Finding {
        key: format!("md5:{user}"),
        words: format!(
            "The password of \"{user}\" is stored as MD5, which PostgreSQL deprecates and which \
             an attacker who reads it can replay."
        ),
        fix_sql: None,
        advice: Some(
            "Reset its password: pgusers stores the new one as SCRAM-SHA-256. The application \
             needs the new password."
                .to_owned(),
        ),
        problem: Problem::Md5Password {
            user: user.to_owned(),
        },
    }
}

fn no_password(user: &str) -> Finding {
    Finding {
        key: format!("no-password:{user}"),
        words: format!(
            "\"{user}\" may log in and has no password: only a method that asks for none \
             (trust, peer, ident, a certificate) lets it in."
        ),
        fix_sql: None,
        advice: Some("Reset its password, or delete it if nothing uses it.".to_owned()),
        problem: Problem::NoPassword {
            user: user.to_owned(),
        },
    }
}

fn expired(user: &str, at: &str) -> Finding {
    Finding {
        key: format!("expired:{user}"),
        words: format!("The password of \"{user}\" expired ({at} UTC): it cannot log in with it."),
        fix_sql: None,
        advice: Some("Change its expiry if it should still log in, or delete it.".to_owned()),
        problem: Problem::Expired {
            user: user.to_owned(),
            at: at.to_owned(),
        },
    }
}

fn not_manageable(role: &str, reason: &str) -> Finding {
    Finding {
        key: format!("not-manageable:{role}"),
        words: format!("pgusers does not manage \"{role}\": {reason}."),
        fix_sql: None,
        advice: Some(
            "Nothing to do if that is intended; pgusers lists it and changes nothing of it."
                .to_owned(),
        ),
        problem: Problem::NotManageable {
            role: role.to_owned(),
            reason: reason.to_owned(),
        },
    }
}
