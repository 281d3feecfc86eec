//! The access doctor: what drifted from what pgusers sets up, in words,
//! with the exact SQL that fixes it, and the fix.
//!
//! What it finds, in one database:
//! - what pgusers' groups lack on the database, an application schema
//!   (see `groups`), in the protected user's default privileges, or for
//!   making large objects;
//! - relations in the application schemas the read-only users cannot read,
//!   or the read-write users cannot write (made by a role pgusers does not
//!   manage, restored from a dump…), and relations of the users pgusers
//!   made that the protected user cannot read and write (never TRIGGER,
//!   REFERENCES or MAINTAIN: they run code as the owner);
//! - roles making what the groups share (owning a relation in an
//!   application schema, or read-write users pgusers made) whose future
//!   tables and sequences will not reach the groups (no global default
//!   privileges for them), and among them those pgusers' role cannot set
//!   default privileges for (it neither has the role's privileges nor may
//!   take them: on 16+ a CREATEROLE role without ADMIN OPTION on a role
//!   someone else made); a privileged role gets no SQL (its views would
//!   reach the groups);
//! - schemas pgusers leaves alone (owned by a role it does not manage), a
//!   notice with the SQL that would share them;
//! - objects pgusers' groups own (before 16 every membership allows `SET
//!   ROLE` to a group, and a member could make them);
//! - schemas named after a role other than their owner, which come first
//!   in that role's `search_path`;
//! - memberships of the groups that are not pgusers': on 16+ one that lets
//!   its member `SET ROLE` to the group (granted by another role, say), and
//!   users pgusers made that are members of neither group;
//! - users whose password is stored as MD5, users that may log in with no
//!   password, expired users, and roles pgusers cannot manage. Expired
//!   users (but the protected one) and roles it does not manage are
//!   someone's decision: [`Severity::Notice`]s, not problems. A weak
//!   password is a problem whoever's role it is.
//!
//! pgusers fixes a finding itself ([`Finding::fixable`]) only when the fix
//! is what it does when it creates users: a grant on a table or sequence,
//! or default privileges, of the protected user or of a user it manages.
//! A view or a materialized view reads with its owner's rights (pgusers
//! takes grants on a deleted user's views back on purpose), and a role it
//! does not manage is not its to act for: those findings show their SQL
//! for a person to review and run. The others are the person's to decide
//! (a reset changes an application's password) and name what to do.

use std::collections::HashSet;

use deadpool_postgres::GenericClient;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::groups::{self, Gap, Grantee, GroupGap};
use super::privileges::{ensure_privileges_of, inherit_grant, refusal};
use super::sql::{self, ident};
use super::{DatabaseUser, Facts, PasswordEncryption, RoleError, RoleManager, changes, upgrade};

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
    /// What `role` creates from now on, in any schema, will not reach
    /// pgusers' groups (no default privileges for them).
    FutureNotShared { role: String },
    /// Like [`Problem::FutureNotShared`], but pgusers' role cannot set
    /// `role`'s default privileges at all: it neither has its privileges nor
    /// may take them.
    CannotAct { role: String },
    /// pgusers leaves schema `schema` (owned by `owner`) alone: its users
    /// get nothing in it.
    LeftAlone { schema: String, owner: String },
    /// pgusers' group `group` owns `objects`, which every member may then
    /// use as their owner.
    GroupOwns { group: String, objects: String },
    /// pgusers' group `group` is granted `objects`, beyond an application
    /// user's: pgusers manages none of its members.
    GroupBeyond { group: String, objects: String },
    /// Schema `schema` is named after a role other than its owner `owner`,
    /// so it comes first in that role's `search_path`.
    NamedAfterAnother { schema: String, owner: String },
    /// `user`'s memberships of pgusers' groups are not what pgusers grants
    /// (`detail`): it may `SET ROLE` to a group, or it is in neither.
    Membership { user: String, detail: String },
    /// The read-write users cannot write `relation`.
    Unwritable {
        relation: String,
        relation_kind: String,
        owner: String,
    },
    /// The protected user cannot read and write `relation`, which a user
    /// pgusers made owns.
    ProtectedCannotWrite {
        relation: String,
        relation_kind: String,
        owner: String,
    },
    /// pgusers' groups lack what they get on `subject` (the database, a
    /// schema, the protected user's default privileges, large objects);
    /// granting it is `owner`'s right.
    GroupsLack { subject: String, owner: String },
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

/// Whether a finding is drift to fix, or a fact to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Access is not what pgusers sets up, or a password is weak: `pgusers
    /// doctor` exits 5 while one is found.
    Problem,
    /// What someone decided, shown so nobody is surprised: a role pgusers
    /// does not manage (another database's user on a shared server, a
    /// privileged role), a password whose expiry came (but the protected
    /// user's, a problem). Not a failure.
    Notice,
}

/// One finding: what is wrong, in words, and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Names the finding among the others, stably (`unreadable:public.t`).
    pub key: String,
    #[serde(flatten)]
    pub problem: Problem,
    pub severity: Severity,
    /// What is wrong, in a sentence.
    pub words: String,
    /// The exact SQL that fixes it, when SQL does.
    pub fix_sql: Option<String>,
    /// Whether pgusers runs `fix_sql` itself (the Fix button, `--fix`).
    pub fixable: bool,
    /// What a person does about it, when pgusers does not fix it.
    pub advice: Option<String>,
    /// The user whose page the advice leads to (one pgusers manages).
    #[serde(skip)]
    pub user_page: Option<String>,
}

impl Finding {
    /// What a Fix button sends: a digest of the key, which survives a
    /// form's line-break normalisation whatever the names in it.
    pub fn token(&self) -> String {
        Sha256::digest(self.key.as_bytes())
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Whether this is a problem, not a notice.
    pub fn is_problem(&self) -> bool {
        self.severity == Severity::Problem
    }

    /// Whether `sent` (a key or a token) names this finding.
    fn named_by(&self, sent: &str) -> bool {
        self.key == sent || self.token() == sent
    }
}

/// How many users the doctor reads at a time: ten thousand users never
/// sit in memory at once, only the names of those the findings are about.
const PART: u32 = 1_000;

/// Of the roles some finding is about, those pgusers manages.
#[derive(Default)]
struct Managed {
    users: HashSet<String>,
}

impl Managed {
    fn note(&mut self, user: &DatabaseUser, about: &HashSet<String>) {
        if user.manageable() && about.contains(&user.username) {
            self.users.insert(user.username.clone());
        }
    }
}

/// The roles pgusers acts for in a fix: the protected user and the users
/// it manages.
struct ActsFor<'a> {
    protected: &'a str,
    managed: &'a Managed,
}

impl<'a> ActsFor<'a> {
    fn new(facts: &'a Facts, managed: &'a Managed) -> Self {
        Self {
            protected: &facts.protected,
            managed,
        }
    }

    fn includes(&self, role: &str) -> bool {
        role == self.protected || self.managed.users.contains(role)
    }
}

impl RoleManager {
    /// Everything the doctor finds in this database, in the order above.
    pub async fn check_access(&self) -> Result<Vec<Finding>, RoleError> {
        // One connection at a time: a request never waits for a second
        // while holding a first.
        let (facts, drifted) = {
            let client = self.client().await?;
            let facts = self.facts(&client).await?;
            let drifted = drifted(&client, &facts).await?;
            (facts, drifted)
        };
        let mut about_users = Vec::new();
        let managed = self
            .managed(&drifted.roles(), |user| {
                about_users.extend(user_findings(user));
            })
            .await?;
        let mut findings = drifted.findings(&facts, &managed);
        findings.append(&mut about_users);
        Ok(findings)
    }

    /// Which of the roles `about` pgusers manages, from every user read a
    /// part at a time; `each` sees every user on the way.
    async fn managed(
        &self,
        about: &HashSet<String>,
        mut each: impl FnMut(&DatabaseUser),
    ) -> Result<Managed, RoleError> {
        let mut managed = Managed::default();
        self.list_in_parts(PART, |part| {
            for user in part {
                managed.note(user, about);
                each(user);
            }
            Ok::<(), RoleError>(())
        })
        .await?;
        Ok(managed)
    }

    /// The key of the finding `sent` names (its key, or the digest a Fix
    /// button sends), if it is found now; `None` when it is not, or the
    /// check cannot run (the fix that follows says why).
    pub async fn finding_key(&self, sent: &str) -> Option<String> {
        let found = self.check_access().await.ok()?;
        found
            .into_iter()
            .find(|finding| finding.named_by(sent))
            .map(|finding| finding.key)
    }

    /// Runs the fix of the finding `sent` names (its key or its token), if
    /// it is still found and pgusers fixes it, in a change of its own that
    /// commits only once the finding is gone. Returns the finding fixed, or
    /// `None` when there is nothing to fix.
    pub async fn fix_access(&self, sent: &str) -> Result<Option<Finding>, RoleError> {
        // Whom the findings are about, then which of them pgusers manages
        // (a role found only in the change below counts as one it does
        // not: its finding is not fixed).
        let about = {
            let client = self.client().await?;
            let facts = self.facts(&client).await?;
            drifted(&client, &facts).await?.roles()
        };
        let managed = self.managed(&about, |_| {}).await?;
        let mut client = self.change_client().await?;
        let tx = changes::begin_shared(&mut client).await?;
        let facts = self.facts(&tx).await?;
        upgrade::ensure_current(&tx, &facts).await?;
        let found = drift(&tx, &facts, &managed).await?;
        let Some(finding) = found.into_iter().find(|f| f.named_by(sent)) else {
            return Ok(None);
        };
        let (Some(fix), true) = (&finding.fix_sql, finding.fixable) else {
            return Ok(None);
        };
        // Whose privileges the fix needs: granting on a relation is its
        // owner's to do, default privileges for a role that role's.
        let (role, purpose) = match &finding.problem {
            Problem::Unreadable { owner, .. }
            | Problem::Unwritable { owner, .. }
            | Problem::ProtectedCannotWrite { owner, .. }
            | Problem::GroupsLack { owner, .. } => (owner.as_str(), "to grant on what it owns"),
            Problem::FutureNotShared { role } => {
                (role.as_str(), "to change default privileges for it")
            }
            _ => (facts.protected.as_str(), "to grant what it owns"),
        };
        // Checked again here, whatever pgusers' role may do: a fix never
        // acts for a role pgusers does not manage.
        if !ActsFor::new(&facts, &managed).includes(role) {
            return Ok(None);
        }
        ensure_privileges_of(&tx, &facts, role, purpose).await?;
        let fail = |e| refusal(&facts, e, role);
        tx.batch_execute(fix).await.map_err(fail)?;
        // GRANT only warns about what it may not grant: look again.
        let after = drift(&tx, &facts, &managed).await?;
        if let Some(left) = after.iter().find(|f| f.key == finding.key) {
            return Err(RoleError::Misconfigured(
                format!(
                    "The fix ran, but PostgreSQL did not grant everything (the role pgusers \
                     connects as, \"{}\", may not grant all of it), so nothing was changed. \
                     Still: {} Run the fix as \"{role}\" or a superuser.",
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

/// The findings of what drifted from pgusers' grants.
async fn drift(
    client: &impl GenericClient,
    facts: &Facts,
    managed: &Managed,
) -> Result<Vec<Finding>, RoleError> {
    Ok(drifted(client, facts).await?.findings(facts, managed))
}

/// What drifted, as PostgreSQL says it, before knowing which roles pgusers
/// manages.
struct Drifted {
    /// What the groups lack on the database, the schemas, in default
    /// privileges.
    groups: Vec<GroupGap>,
    /// Relations the readers group may not read.
    unreadable: Vec<Gap>,
    /// Relations the writers group may not write.
    unwritable: Vec<Gap>,
    /// Relations of the users pgusers made the protected user may not write.
    protected_lacks: Vec<Gap>,
    /// Roles whose future tables and sequences will not reach the groups.
    future: Vec<Maker>,
    /// Schemas pgusers leaves alone, with their owners and whether each
    /// is a privileged owner.
    left_alone: Vec<(String, String, bool)>,
    /// What the groups own.
    groups_own: Vec<GroupOwned>,
    /// What the groups are granted beyond an application user's: the
    /// group, the objects described, the statements taking them back.
    groups_beyond: Vec<(String, String, Option<String>)>,
    /// Schemas named after another role than their owner, with the owner.
    named_after: Vec<(String, String)>,
    /// Memberships that are not pgusers', by member, in order.
    memberships: Vec<(String, Membership)>,
}

/// What one of pgusers' groups owns.
struct GroupOwned {
    group: String,
    /// The objects, described by PostgreSQL.
    objects: String,
    /// The statements that empty the default privileges it owns, which
    /// REASSIGN OWNED does not move; `None` when it owns none.
    defaults_sql: Option<String>,
}

/// A role whose future tables will not reach the groups.
struct Maker {
    role: String,
    /// A user pgusers made (its tables are the protected user's to write
    /// too).
    made: bool,
    /// A privileged owner: default privileges of its would give the groups
    /// its views, which read with its rights.
    privileged: bool,
    /// Whether pgusers' role may set its default privileges.
    may_act: bool,
}

impl Drifted {
    /// The roles the findings are about: whether pgusers manages them
    /// decides what it fixes.
    fn roles(&self) -> HashSet<String> {
        self.unreadable
            .iter()
            .chain(&self.unwritable)
            .chain(&self.protected_lacks)
            .map(|gap| gap.owner.clone())
            .chain(self.groups.iter().map(|gap| gap.owner.clone()))
            .chain(self.future.iter().map(|maker| maker.role.clone()))
            .collect()
    }

    fn findings(self, facts: &Facts, managed: &Managed) -> Vec<Finding> {
        let acts_for = ActsFor::new(facts, managed);
        let mut findings = Vec::new();
        for gap in self.groups {
            findings.push(groups_lack(gap, &acts_for));
        }
        for gap in self.unreadable {
            findings.push(unreadable(gap, &facts.readers, &acts_for));
        }
        for gap in self.unwritable {
            findings.push(not_shared(gap, Grantee::Writers, facts, &acts_for));
        }
        for gap in self.protected_lacks {
            findings.push(not_shared(gap, Grantee::Protected, facts, &acts_for));
        }
        for maker in self.future {
            findings.push(future_not_shared(maker, facts, &acts_for));
        }
        for (schema, owner, privileged) in self.left_alone {
            findings.push(left_alone(schema, owner, privileged, facts));
        }
        for owned in self.groups_own {
            findings.push(group_owns(owned, facts));
        }
        for (group, objects, sql) in self.groups_beyond {
            findings.push(group_beyond(group, objects, sql));
        }
        for (schema, owner) in self.named_after {
            findings.push(named_after_another(schema, owner));
        }
        let mut memberships = self.memberships.into_iter().peekable();
        while let Some((user, first)) = memberships.next() {
            let mut rows = vec![first];
            while let Some((_, row)) = memberships.next_if(|(next, _)| *next == user) {
                rows.push(row);
            }
            findings.push(membership(user, rows, facts));
        }
        findings
    }
}

async fn drifted(client: &impl GenericClient, facts: &Facts) -> Result<Drifted, RoleError> {
    let fail = |e| RoleError::server(e);
    let exists = |group: &str| {
        let group = group.to_owned();
        async move {
            client
                .query_opt(sql::ROLE_EXISTS, &[&group])
                .await
                .map(|row| row.is_some())
                .map_err(fail)
        }
    };
    let readers_exist = exists(&facts.readers).await?;
    let writers_exist = exists(&facts.writers).await?;
    let mut drifted = Drifted {
        groups: groups::group_gaps(client, facts).await?,
        unreadable: Vec::new(),
        unwritable: Vec::new(),
        protected_lacks: Vec::new(),
        future: Vec::new(),
        left_alone: Vec::new(),
        memberships: Vec::new(),
        named_after: Vec::new(),
        groups_own: Vec::new(),
        groups_beyond: Vec::new(),
    };
    if readers_exist {
        drifted.unreadable = groups::relation_gaps(client, facts, Grantee::Readers, None).await?;
    }
    for row in client
        .query(
            sql::FUTURE_NOT_SHARED.as_str(),
            &[
                &facts.protected,
                &sql::WRITER_TABLE_PRIVILEGES.as_slice(),
                &sql::WRITER_SEQUENCE_PRIVILEGES.as_slice(),
            ],
        )
        .await
        .map_err(fail)?
    {
        drifted.future.push(Maker {
            role: row.get(0),
            made: row.get(1),
            privileged: row.get(2),
            may_act: row.get(3),
        });
    }
    for row in client
        .query(sql::LEFT_ALONE.as_str(), &[&facts.protected])
        .await
        .map_err(fail)?
    {
        drifted
            .left_alone
            .push((row.get(0), row.get(1), row.get(2)));
    }
    for row in client
        .query(sql::GROUPS_OWN.as_str(), &[&facts.protected])
        .await
        .map_err(fail)?
    {
        drifted.groups_own.push(GroupOwned {
            group: row.get(0),
            objects: row.get(1),
            defaults_sql: row.get(2),
        });
    }
    for row in client
        .query(sql::GROUP_BEYOND.as_str(), &[&facts.protected])
        .await
        .map_err(fail)?
    {
        drifted
            .groups_beyond
            .push((row.get(0), row.get(1), row.get(2)));
    }
    for row in client
        .query(sql::SCHEMAS_NAMED_AFTER, &[])
        .await
        .map_err(fail)?
    {
        drifted.named_after.push((row.get(0), row.get(1)));
    }
    for row in client
        .query(
            sql::group_memberships(facts.version_num),
            &[&facts.protected],
        )
        .await
        .map_err(fail)?
    {
        drifted.memberships.push((
            row.get(0),
            Membership {
                group: row.get(1),
                grantor: row.get(2),
                what: row.get(3),
            },
        ));
    }
    if writers_exist {
        drifted.unwritable = groups::relation_gaps(client, facts, Grantee::Writers, None).await?;
    }
    drifted.protected_lacks =
        groups::relation_gaps(client, facts, Grantee::Protected, None).await?;
    Ok(drifted)
}

/// What is found about one user: a role pgusers does not manage (a
/// notice), a weak password, an expired one.
fn user_findings(user: &DatabaseUser) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = &user.username;
    let unmanaged = user.not_manageable.as_ref().filter(|_| !user.protected);
    if let Some(reason) = unmanaged {
        findings.push(not_manageable(name, &reason.to_string()));
    }
    let page = user.manageable().then(|| name.clone());
    // A weak password is a problem whoever's role it is: the more
    // a role may do, the more it matters.
    let mut about = Vec::new();
    if user.password_encryption == PasswordEncryption::Md5 {
        about.push(md5(name));
    }
    if user.password_encryption == PasswordEncryption::NoPassword {
        about.push(no_password(name));
    }
    if user.expired {
        let at = user.expires_shown().unwrap_or_default();
        about.push(expired(name, &at, user.protected));
    }
    for mut finding in about {
        if page.is_none() {
            let whose = if unmanaged.is_some() {
                "a role it does not manage"
            } else {
                "the protected user, or a database's owner"
            };
            finding.advice = Some(format!(
                "pgusers does not change \"{name}\" ({whose}): do it outside pgusers, \
                     with its application's owners."
            ));
        }
        finding.user_page = page.clone();
        findings.push(finding);
    }
    findings
}

/// A relation's kind, in words, from its relkind.
fn kind_words(relkind: &str) -> &'static str {
    match relkind {
        "r" => "table",
        "p" => "partitioned table",
        "v" => "view",
        "m" => "materialized view",
        "f" => "foreign table",
        _ => "sequence",
    }
}

fn unreadable(gap: Gap, readers: &str, acts_for: &ActsFor<'_>) -> Finding {
    let Gap {
        name: relation,
        owner,
        relkind,
        ..
    } = gap;
    let relkind = relkind.as_str();
    let relation_kind = kind_words(relkind).to_owned();
    let what = if relkind == "S" { "SEQUENCE" } else { "TABLE" };
    let reads_as_owner = matches!(relkind, "v" | "m");
    let fixable = !reads_as_owner && relkind != "f" && acts_for.includes(&owner);
    let advice = if reads_as_owner {
        Some(format!(
            "A {relation_kind} reads with its owner's rights: review what it shows, then \
             run the SQL as \"{owner}\" if the read-only users should read it."
        ))
    } else if !fixable {
        Some(format!(
            "pgusers does not act for \"{owner}\": if the read-only users should read it, \
             run the SQL as \"{owner}\" or a superuser."
        ))
    } else {
        None
    };
    Finding {
        key: format!("unreadable:{relation}"),
        words: format!(
            "The read-only users cannot read {relation_kind} {relation} (owned by \"{owner}\")."
        ),
        fix_sql: Some(format!(
            "GRANT SELECT ON {what} {relation} TO {};",
            ident(readers)
        )),
        fixable,
        advice,
        user_page: None,
        severity: Severity::Problem,
        problem: Problem::Unreadable {
            relation,
            relation_kind,
            owner,
        },
    }
}

/// A role whose future tables and sequences will not reach the groups: the
/// default privileges pgusers sets for a user it made
/// ([`groups::creator_defaults`]), or for another role the groups' share.
fn future_not_shared(maker: Maker, facts: &Facts, acts_for: &ActsFor<'_>) -> Finding {
    let Maker {
        role,
        made,
        privileged,
        may_act,
    } = maker;
    let fix_sql = if made {
        groups::creator_defaults(&ident(&role), facts)
    } else {
        groups::groups_defaults(&ident(&role), None, facts)
    };
    let words = format!(
        "Tables and sequences \"{role}\" creates from now on, in any schema, will not all be \
         readable by the read-only users and writable by the read-write users: its default \
         privileges do not give them that."
    );
    if privileged {
        // Default privileges ON TABLES cover views too, and a view of a
        // privileged role reads with its rights: every member of a group
        // given one would be more than an application user.
        return Finding {
            key: format!("future:{role}"),
            words,
            fix_sql: None,
            fixable: false,
            advice: Some(format!(
                "\"{role}\" is a privileged role: pgusers offers no default privileges for it, \
                 since they would give the groups its views too, which read with its rights. \
                 Make the application's tables as the protected user, or give them to it \
                 (ALTER TABLE … OWNER TO {}).",
                ident(&facts.protected)
            )),
            user_page: None,
            severity: Severity::Problem,
            problem: Problem::FutureNotShared { role },
        };
    }
    if !may_act {
        return Finding {
            key: format!("cannot-act:{role}"),
            words: format!(
                "{words} The role pgusers connects as, \"{}\", cannot set them: it neither has \
                 the privileges of \"{role}\" nor may take them.",
                facts.admin
            ),
            fix_sql: Some(fix_sql),
            fixable: false,
            advice: Some(format!(
                "Run the SQL as \"{role}\" or a superuser, or give \"{}\" what it needs to act \
                 for it: {}",
                facts.admin,
                inherit_grant(facts, &role)
            )),
            user_page: None,
            severity: Severity::Problem,
            problem: Problem::CannotAct { role },
        };
    }
    let fixable = acts_for.includes(&role);
    Finding {
        key: format!("future:{role}"),
        words,
        fix_sql: Some(fix_sql),
        fixable,
        advice: (!fixable).then(|| {
            format!(
                "pgusers does not act for \"{role}\": if pgusers' users should use what it \
                 makes, run the SQL as \"{role}\" or a superuser."
            )
        }),
        user_page: None,
        severity: Severity::Problem,
        problem: Problem::FutureNotShared { role },
    }
}

/// A schema pgusers leaves alone: a notice, with the SQL that would share
/// what is in it, and what its owner makes there later, with the groups.
fn left_alone(schema: String, owner: String, privileged: bool, facts: &Facts) -> Finding {
    let (writers, readers, quoted) = (ident(&facts.writers), ident(&facts.readers), ident(&schema));
    let tables = sql::WRITER_TABLE_PRIVILEGES.join(", ");
    let sequences = sql::WRITER_SEQUENCE_PRIVILEGES.join(", ");
    // ON ALL TABLES and default privileges ON TABLES cover views too: none
    // for a privileged owner, whose views read with its rights.
    let fix_sql = (!privileged).then(|| {
        format!(
            "GRANT USAGE ON SCHEMA {quoted} TO {writers}, {readers};
GRANT {tables} ON ALL TABLES IN SCHEMA {quoted} TO {writers};
GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {quoted} TO {writers};
GRANT SELECT ON ALL TABLES IN SCHEMA {quoted} TO {readers};
GRANT SELECT ON ALL SEQUENCES IN SCHEMA {quoted} TO {readers};
{}",
            groups::groups_defaults(&ident(&owner), Some(&quoted), facts)
        )
    });
    let advice = if privileged {
        format!(
            "Nothing to do if that is intended. \"{owner}\" is a privileged role: its views read \
             with its rights, so pgusers offers no SQL that would give them to its users; give \
             the schema and what is in it to the protected user (ALTER SCHEMA {quoted} OWNER TO \
             {}) if they should use it.",
            ident(&facts.protected)
        )
    } else {
        format!(
            "Nothing to do if that is intended. If pgusers' users should use it, review the SQL \
             and run it as \"{owner}\" or a superuser; what others make there needs their own \
             default privileges."
        )
    };
    Finding {
        key: format!("left-alone:{schema}"),
        words: format!(
            "pgusers leaves schema {quoted} alone (owned by \"{owner}\", neither the protected \
             user nor a user pgusers made): its users get nothing in it."
        ),
        fix_sql,
        fixable: false,
        advice: Some(advice),
        user_page: None,
        severity: Severity::Notice,
        problem: Problem::LeftAlone { schema, owner },
    }
}

/// Objects one of pgusers' groups owns.
fn group_owns(owned: GroupOwned, facts: &Facts) -> Finding {
    let GroupOwned {
        group,
        objects,
        defaults_sql,
    } = owned;
    let mut fix_sql = format!(
        "REASSIGN OWNED BY {} TO {};",
        ident(&group),
        ident(&facts.protected)
    );
    let mut advice = "Review them, then give them to the protected user (the SQL, as a \
                      superuser), or drop them."
        .to_owned();
    if let Some(defaults) = defaults_sql {
        fix_sql.push('\n');
        fix_sql.push_str(&defaults);
        advice.push_str(
            " Default privileges do not move with REASSIGN OWNED: the SQL takes them back \
             from the group's rows, which PostgreSQL then drops.",
        );
    }
    advice.push_str(
        " Before PostgreSQL 16 a member can SET ROLE to the group to make them: look for who \
         did in the server's log.",
    );
    Finding {
        key: format!("group-owns:{group}"),
        words: format!(
            "pgusers' group \"{group}\" owns {objects}: every member may use them as their \
             owner (drop them, change them, grant them on)."
        ),
        fix_sql: Some(fix_sql),
        fixable: false,
        advice: Some(advice),
        user_page: None,
        severity: Severity::Problem,
        problem: Problem::GroupOwns { group, objects },
    }
}

/// A group granted what is beyond an application user's: every member is
/// listed as one pgusers does not manage. A person's to take back: only
/// the grantor (or the owner, or a superuser) can.
fn group_beyond(group: String, objects: String, fix_sql: Option<String>) -> Finding {
    Finding {
        key: format!("group-beyond:{group}"),
        words: format!(
            "pgusers' group \"{group}\" is granted {objects}, beyond an application user's: \
             pgusers manages none of its members."
        ),
        fix_sql,
        fixable: false,
        advice: Some(
            "Review what each gives, then run the SQL as the object's owner or a superuser \
             (a REVOKE takes back only the grants of the role that runs it, a superuser's as \
             the owner's; one another role made needs GRANTED BY that role). Whoever needs \
             it should get it as a role of its own, outside pgusers' groups."
                .to_owned(),
        ),
        user_page: None,
        severity: Severity::Problem,
        problem: Problem::GroupBeyond { group, objects },
    }
}

/// The name the doctor offers for a schema named after another role:
/// `<schema>_of_<owner>`, or `<schema>_renamed` where that is longer than
/// PostgreSQL's 63 bytes (which would cut it, perhaps into another
/// schema's name), the schema's part cut at a character's boundary.
fn renamed_schema(schema: &str, owner: &str) -> String {
    const MAX: usize = 63;
    let full = format!("{schema}_of_{owner}");
    if full.len() <= MAX {
        return full;
    }
    let suffix = "_renamed";
    let mut end = schema.len().min(MAX - suffix.len());
    while !schema.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &schema[..end])
}

/// A schema named after a role other than its owner.
fn named_after_another(schema: String, owner: String) -> Finding {
    let quoted = ident(&schema);
    let renamed = ident(&renamed_schema(&schema, &owner));
    Finding {
        key: format!("named-after:{schema}"),
        words: format!(
            "Schema {quoted} is named after role \"{schema}\" but owned by \"{owner}\": it comes \
             first in \"{schema}\"'s search_path, so a function or a table \"{owner}\" makes \
             there is found before public's by \"{schema}\"'s unqualified names, and a function \
             runs with \"{schema}\"'s rights."
        ),
        fix_sql: Some(format!("ALTER SCHEMA {quoted} RENAME TO {renamed};")),
        fixable: false,
        advice: Some(format!(
            "Review what is in it, then rename it (the SQL, as \"{owner}\" or a superuser) and \
             change what uses its name; or, if it is \"{schema}\"'s own, give it to that role \
             (ALTER SCHEMA {quoted} OWNER TO {quoted};)."
        )),
        user_page: None,
        severity: Severity::Problem,
        problem: Problem::NamedAfterAnother { schema, owner },
    }
}

/// One membership that is not pgusers': its group and grantor (when the
/// kind has them) and its kind (`set`, `admin`, `no_inherit`, `both`,
/// `neither`: see `sql/group_memberships.sql`).
struct Membership {
    group: Option<String>,
    grantor: Option<String>,
    what: String,
}

/// A user whose memberships of the groups are not pgusers'.
fn membership(user: String, rows: Vec<Membership>, facts: &Facts) -> Finding {
    let quoted = ident(&user);
    let (mut said, mut sql, mut advice) = (Vec::new(), Vec::new(), Vec::new());
    for Membership {
        group,
        grantor,
        what,
    } in rows
    {
        let group = group.unwrap_or_default();
        let grantor = grantor.unwrap_or_default();
        match what.as_str() {
            "set" => {
                said.push(format!(
                    "may SET ROLE to \"{group}\" (granted by \"{grantor}\"): it could act as the \
                     group and make objects every member uses"
                ));
                sql.push(format!(
                    "REVOKE SET OPTION FOR {} FROM {quoted} GRANTED BY {};",
                    ident(&group),
                    ident(&grantor)
                ));
            }
            "admin" => {
                said.push(format!(
                    "may make any role a member of \"{group}\" (ADMIN OPTION, granted by \
                     \"{grantor}\")"
                ));
                sql.push(format!(
                    "REVOKE ADMIN OPTION FOR {} FROM {quoted} GRANTED BY {};",
                    ident(&group),
                    ident(&grantor)
                ));
            }
            "no_inherit" => {
                said.push(format!(
                    "does not get the privileges of \"{group}\" from its membership"
                ));
                sql.push(if facts.version_num >= 160_000 {
                    groups::membership(&group, &quoted, facts.version_num)
                } else {
                    format!("ALTER ROLE {quoted} INHERIT;")
                });
            }
            "both" => {
                said.push(
                    "is a member of both the read-write and the read-only group: it may write, \
                     yet is listed read-only"
                        .to_owned(),
                );
                advice.push(format!(
                    "Take back the membership it should not have (REVOKE {} FROM {quoted}; or \
                     REVOKE {} FROM {quoted};, as whoever granted it).",
                    ident(&facts.writers),
                    ident(&facts.readers)
                ));
            }
            _ => {
                let grant = |group: &str| groups::membership(group, &quoted, facts.version_num);
                said.push(
                    "is a user pgusers made, but a member of neither the read-write nor the \
                     read-only group: it has none of a user's rights"
                        .to_owned(),
                );
                advice.push(format!(
                    "Make it a member of the group of its kind, as the role pgusers connects \
                     as: {} (read-write) or {} (read-only); or delete it if nothing uses it.",
                    grant(&facts.writers),
                    grant(&facts.readers)
                ));
            }
        }
    }
    if !sql.is_empty() {
        advice.push(
            "Run the SQL as a superuser or as the role that granted the membership.".to_owned(),
        );
    }
    let detail = said.join("; ");
    Finding {
        key: format!("membership:{user}"),
        words: format!("\"{user}\" {detail}."),
        fix_sql: (!sql.is_empty()).then(|| sql.join("\n")),
        fixable: false,
        advice: Some(advice.join(" ")),
        user_page: None,
        severity: Severity::Problem,
        problem: Problem::Membership { user, detail },
    }
}

/// A relation `grantee` (the read-write group, or the protected user on
/// a user's relation) lacks its share of.
fn not_shared(gap: Gap, grantee: Grantee, facts: &Facts, acts_for: &ActsFor<'_>) -> Finding {
    let relation_kind = kind_words(&gap.relkind).to_owned();
    let (tables, sequences) = grantee.privileges();
    let (what, privileges) = if gap.sequence {
        ("SEQUENCE", sequences)
    } else {
        ("TABLE", tables)
    };
    let reads_as_owner = matches!(gap.relkind.as_str(), "v" | "m");
    let fixable = !reads_as_owner && gap.relkind != "f" && acts_for.includes(&gap.owner);
    let owner = &gap.owner;
    let advice = if reads_as_owner {
        Some(format!(
            "A {relation_kind} reads with its owner's rights: review what it shows, then run the \
             SQL as \"{owner}\" if it should be shared."
        ))
    } else if !fixable {
        Some(format!(
            "pgusers does not act for \"{owner}\": if it should be shared, run the SQL as \
             \"{owner}\" or a superuser."
        ))
    } else {
        None
    };
    let relation = gap.name;
    let (key, words, problem) = match grantee {
        Grantee::Protected => (
            format!("protected-lacks:{relation}"),
            format!(
                "The protected user \"{}\" cannot read and write {relation_kind} {relation} \
                 (owned by \"{owner}\", a user pgusers made).",
                facts.protected
            ),
            Problem::ProtectedCannotWrite {
                relation: relation.clone(),
                relation_kind,
                owner: owner.clone(),
            },
        ),
        _ => (
            format!("unwritable:{relation}"),
            format!(
                "The read-write users cannot read and write {relation_kind} {relation} (owned \
                 by \"{owner}\")."
            ),
            Problem::Unwritable {
                relation: relation.clone(),
                relation_kind,
                owner: owner.clone(),
            },
        ),
    };
    Finding {
        key,
        words,
        fix_sql: Some(format!(
            "GRANT {} ON {what} {relation} TO {};",
            privileges.join(", "),
            ident(grantee.name(facts))
        )),
        fixable,
        advice,
        user_page: None,
        severity: Severity::Problem,
        problem,
    }
}

/// What the groups lack on the database, a schema, in default privileges.
fn groups_lack(gap: GroupGap, acts_for: &ActsFor<'_>) -> Finding {
    let fixable = acts_for.includes(&gap.owner);
    let owner = gap.owner;
    Finding {
        key: format!("groups:{}", gap.statement),
        words: format!(
            "pgusers' groups (or the protected user) lack what pgusers gives them on {}: some \
             users cannot do what their kind may.",
            gap.subject
        ),
        advice: (!fixable).then(|| {
            format!(
                "pgusers does not act for \"{owner}\": run the SQL as \"{owner}\" or a \
                 superuser."
            )
        }),
        fix_sql: Some(gap.statement),
        fixable,
        user_page: None,
        severity: Severity::Problem,
        problem: Problem::GroupsLack {
            subject: gap.subject,
            owner,
        },
    }
}

fn advice_only(
    key: String,
    problem: Problem,
    severity: Severity,
    words: String,
    advice: &str,
) -> Finding {
    Finding {
        key,
        problem,
        severity,
        words,
        fix_sql: None,
        fixable: false,
        advice: Some(advice.to_owned()),
        user_page: None,
    }
}

fn md5(user: &str) -> Finding {
    advice_only(
        format!("md5:{user}"),
        Problem::Md5Password {
            user: user.to_owned(),
        },
        Severity::Problem,
        format!(
            "The password of \"{user}\" is stored as MD5, which PostgreSQL deprecates and which \
             an attacker who reads it can replay."
        ),
        "Reset its password: pgusers stores the new one as SCRAM-SHA-256. The application \
         needs the new password.",
    )
}

fn no_password(user: &str) -> Finding {
    advice_only(
        format!("no-password:{user}"),
        Problem::NoPassword {
            user: user.to_owned(),
        },
        Severity::Problem,
        format!(
            "\"{user}\" may log in and has no password: only a method that asks for none \
             (trust, peer, ident, a certificate) lets it in."
        ),
        "Reset its password, or delete it if nothing uses it.",
    )
}

/// An expired password: someone's decision for a user, a problem for the
/// protected user (its applications are refused).
fn expired(user: &str, at: &str, protected: bool) -> Finding {
    let mut finding = advice_only(
        format!("expired:{user}"),
        Problem::Expired {
            user: user.to_owned(),
            at: at.to_owned(),
        },
        Severity::Notice,
        format!(
            "The password of \"{user}\" expired ({at} UTC): it cannot log in with it (a method \
             that asks for no password still lets it in)."
        ),
        "Change its expiry if it should still log in, or delete it.",
    );
    if protected {
        finding.severity = Severity::Problem;
        finding.words.push_str(
            " It is the protected user: whatever logs in as it with its password is refused.",
        );
    }
    finding
}

fn not_manageable(role: &str, reason: &str) -> Finding {
    advice_only(
        format!("not-manageable:{role}"),
        Problem::NotManageable {
            role: role.to_owned(),
            reason: reason.to_owned(),
        },
        Severity::Notice,
        format!("pgusers does not manage \"{role}\": {reason}."),
        "Nothing to do if that is intended; pgusers lists it and changes nothing of it.",
    )
}

#[cfg(test)]
mod tests {
    use super::renamed_schema;

    #[test]
    fn a_renamed_schema_fits_postgresqls_63_bytes() {
        assert_eq!(
            renamed_schema("app_writer", "migrator"),
            "app_writer_of_migrator"
        );
        let long = "é".repeat(31); // 62 bytes
        let renamed = renamed_schema(&long, "someone");
        assert!(renamed.len() <= 63, "{renamed}");
        assert!(renamed.ends_with("_renamed"));
        assert!(renamed.starts_with(&"é".repeat(27)));
    }
}
