//! Code a deleted user leaves behind.
//!
//! Deleting a user moves what it owns to the protected user, so no table is
//! lost. Its code moves too, and some code runs with its *owner's* rights,
//! or with the rights of a table's owner: moved as it is, a read-write
//! user's `innocent()` would act as the protected user. So before the move:
//! - `SECURITY DEFINER` functions and procedures become `SECURITY INVOKER`:
//!   they run with the rights of whoever calls them;
//! - views get `security_invoker = true` (PostgreSQL 15+): they read tables
//!   with the rights of whoever queries them. PostgreSQL 14 has no such
//!   option, so there every grant on the view is revoked instead: the view
//!   stays, readable by the protected user, who may grant it again after
//!   reading its definition;
//! - triggers (on any table) that call the user's functions, and rules on
//!   its tables (whose actions run as the table's owner), are disabled: they
//!   stay, and the protected user can enable them again after review;
//! - indexes and extended statistics on its tables whose expressions or
//!   predicates run another role's code (see `sql/others_function.sql`
//!   and `sql/reached.sql`: through operators, operator classes and types
//!   too) are dropped:
//!   `ANALYZE` (autovacuum, with nobody acting) and `REINDEX` run them as
//!   the table's owner. They hold no data; the protected user can make
//!   them again;
//! - materialized views are named, unchanged: a refresh runs their query as
//!   their owner, so a person reviews them before refreshing;
//! - on its tables, views and materialized views, what lets other roles run
//!   or attach code as the owner is revoked from them (TRIGGER,
//!   REFERENCES, and MAINTAIN on 17+, which lets them refresh a
//!   materialized view); triggers on its tables that call code of a role
//!   other than the protected user or a superuser are disabled;
//! - FORCE ROW LEVEL SECURITY is removed from its tables whose policies call
//!   code outside `pg_catalog`: forced, the policies would run that code
//!   as the owner, the protected user (the owner is exempt otherwise, as
//!   PostgreSQL's default is; everyone else still sees what they did).
//!
//! Some code PostgreSQL runs as the owner, with nobody acting, cannot be
//! changed without changing the data: a range type's `subtype_diff`
//! function (autovacuum's `ANALYZE` calls it), a partitioned table's key
//! expressions, an exclusion constraint's expressions and predicate, the
//! cast a foreign key's check converts the referencing column with. When
//! such code is a function of a role other than the protected user or a
//! superuser, the delete is refused ([`refusal`]) naming it, and what a
//! person runs after reviewing it (`sql/review_statement.sql`): handing
//! the function to the protected user (`ALTER ROUTINE … OWNER TO`), which
//! says it may run as it.
//!
//! A deleted user's routines move to the protected user commented as
//! unreviewed (`sql/mark_unreviewed.sql`): until a person removes that
//! comment they are still another role's code, so a later delete of a
//! user whose table calls one is judged as if its maker still owned it.

use deadpool_postgres::GenericClient;

use super::sql::ident;

/// One piece of a user's code that could act with its owner's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftCode {
    /// As PostgreSQL describes it: `function public.innocent()`, `view public.report`…
    pub object: String,
    pub kind: CodeKind,
    /// How statements name it, or the table it is on (a `regprocedure` or
    /// `regclass`, quoted by PostgreSQL).
    target: Option<String>,
    /// A trigger's or rule's own name, or a trigger's function.
    name: Option<String>,
    /// Who holds a grant on a view (`None` is PUBLIC), for PostgreSQL 14.
    grantees: Vec<Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// Made to run with its caller's rights.
    DefinerRoutine,
    /// Made to read tables with its caller's rights.
    OwnerRightsView,
    /// Every grant on it revoked (PostgreSQL 14).
    RevokedView,
    /// A trigger calling one of the user's functions: disabled.
    Trigger,
    /// A rule on one of the user's tables: disabled.
    Rule,
    /// A rule on one of the user's views, which PostgreSQL cannot disable:
    /// dropped.
    ViewRule,
    /// An index whose expressions call non-system code: dropped.
    ExpressionIndex,
    /// Extended statistics whose expressions call non-system code: dropped.
    ExpressionStatistics,
    /// Left as it is; named so a person reviews it.
    MaterializedView,
    /// A check constraint, default or generated column of the user's tables
    /// or domains that calls non-system code: left as it is, named.
    TableExpression,
    /// A function or operator with the name of a built-in one: a query
    /// naming it unqualified may call it instead. Left as it is, named.
    ShadowsBuiltIn,
    /// Grants letting other roles run or attach code on one of its
    /// relations (TRIGGER, REFERENCES, MAINTAIN): revoked.
    CodeGrant,
    /// One of its tables forcing row-level security on its owner, with
    /// policies calling non-system code: FORCE removed.
    ForcedPolicies,
    /// Code PostgreSQL runs as the owner that cannot be changed (a range
    /// type's `subtype_diff`, a partition key, an exclusion constraint)
    /// calling another role's function: the delete is refused.
    Unchangeable,
}

impl LeftCode {
    /// What the deletion does about it, as a statement (empty when nothing).
    fn statement(&self) -> String {
        let (Some(target), name) = (&self.target, self.name.as_deref()) else {
            return String::new();
        };
        match (self.kind, name) {
            (CodeKind::DefinerRoutine, _) => format!("ALTER ROUTINE {target} SECURITY INVOKER;"),
            (CodeKind::OwnerRightsView, _) => {
                format!("ALTER VIEW {target} SET (security_invoker = true);")
            }
            (CodeKind::RevokedView, _) if !self.grantees.is_empty() => {
                let grantees: Vec<String> = self
                    .grantees
                    .iter()
                    .map(|g| g.as_deref().map_or_else(|| "PUBLIC".to_owned(), ident))
                    .collect();
                format!("REVOKE ALL ON {target} FROM {};", grantees.join(", "))
            }
            (CodeKind::Trigger, Some(trigger)) => {
                format!("ALTER TABLE {target} DISABLE TRIGGER {};", ident(trigger))
            }
            (CodeKind::Rule, Some(rule)) => {
                format!("ALTER TABLE {target} DISABLE RULE {};", ident(rule))
            }
            (CodeKind::ViewRule, Some(rule)) => format!("DROP RULE {} ON {target};", ident(rule)),
            (CodeKind::ExpressionIndex, _) => format!("DROP INDEX {target};"),
            (CodeKind::ExpressionStatistics, _) => format!("DROP STATISTICS {target};"),
            (CodeKind::CodeGrant, Some(privileges)) if !self.grantees.is_empty() => {
                let grantees: Vec<String> = self
                    .grantees
                    .iter()
                    .map(|g| g.as_deref().map_or_else(|| "PUBLIC".to_owned(), ident))
                    .collect();
                format!(
                    "REVOKE {privileges} ON TABLE {target} FROM {};",
                    grantees.join(", ")
                )
            }
            (CodeKind::ForcedPolicies, _) => {
                format!("ALTER TABLE {target} NO FORCE ROW LEVEL SECURITY;")
            }
            _ => String::new(),
        }
    }
}

impl std::fmt::Display for LeftCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let object = &self.object;
        match self.kind {
            CodeKind::DefinerRoutine => write!(
                f,
                "{object} runs with its owner's rights (SECURITY DEFINER): it will run with \
                 its caller's rights instead, so it can never act as the protected user."
            ),
            CodeKind::OwnerRightsView => write!(
                f,
                "{object} reads tables with its owner's rights: it will read them with the \
                 rights of whoever queries it (security_invoker)."
            ),
            CodeKind::RevokedView => write!(
                f,
                "{object} reads tables with its owner's rights, which PostgreSQL 14 cannot \
                 change: every grant on it will be revoked; the protected user can grant it \
                 again after reviewing it."
            ),
            CodeKind::Trigger => write!(
                f,
                "{object} runs a function written by this user: it will be disabled; the \
                 protected user can enable it again after reviewing the function."
            ),
            CodeKind::Rule => write!(
                f,
                "{object}: its actions run with the table owner's rights, which will be the \
                 protected user's: it will be disabled; the protected user can enable it \
                 again after reviewing it."
            ),
            CodeKind::ViewRule => write!(
                f,
                "{object}: its actions run with the view owner's rights, which will be the \
                 protected user's, and a rule on a view cannot be disabled: it will be dropped \
                 (the view stays)."
            ),
            CodeKind::ExpressionIndex | CodeKind::ExpressionStatistics => write!(
                f,
                "{object} computes expressions with code outside the system catalog, which \
                 ANALYZE and REINDEX run with the table owner's rights: it will be dropped \
                 (it holds no data; the protected user can create it again)."
            ),
            CodeKind::TableExpression => write!(
                f,
                "{object} calls code outside the system catalog, which PostgreSQL may run with \
                 the table owner's rights (in a foreign key's cascading action, or when the \
                 owner rewrites the table); it is left as it is: review it."
            ),
            CodeKind::ShadowsBuiltIn => write!(
                f,
                "{object} has the name of a built-in function or operator: a query that names \
                 it without a schema may call it instead, with the rights of whoever runs the \
                 query, the protected user included; it is left as it is: review it."
            ),
            CodeKind::MaterializedView => write!(
                f,
                "{object}: refreshing it runs its query with its owner's rights, which will \
                 be the protected user's; review it before refreshing it."
            ),
            CodeKind::CodeGrant => write!(
                f,
                "{object}: other roles may attach or run code on it as its owner ({}), which \
                 will be the protected user: it will be revoked from them.",
                self.name.as_deref().unwrap_or_default()
            ),
            CodeKind::ForcedPolicies => write!(
                f,
                "{object} applies its row-level security policies to its owner (FORCE), and \
                 they call code outside the system catalog, which would run with the \
                 protected user's rights: FORCE will be removed (its owner is exempt, as \
                 PostgreSQL's default is; other roles still see only what the policies allow)."
            ),
            CodeKind::Unchangeable => write!(
                f,
                "{object} calls {}, which PostgreSQL runs with the owner's rights (ANALYZE, \
                 with nobody acting, or each row written) and which cannot be changed without \
                 changing the data: the user is not deleted until a person reviews that \
                 function.",
                self.target.as_deref().unwrap_or_default()
            ),
        }
    }
}

/// The code role `oid` owns in the current database (or calls from a
/// trigger) that could act with its owner's rights, once `protected` owns
/// it.
///
/// Prepared once per connection: the pool's sessions use generic plans
/// (`admin_config`), which an unnamed statement made anew at every call
/// (20 to 60 ms at 10,000 users, as long as running it).
pub(super) async fn find(
    client: &impl GenericClient,
    oid: u32,
    protected: &str,
    version_num: i32,
) -> Result<Vec<LeftCode>, tokio_postgres::Error> {
    let code_privileges: Vec<String> = super::sql::code_privileges(version_num)
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    let rows = super::sql::rows(
        client,
        super::sql::LEFT_CODE.as_str(),
        &[&oid, &protected, &code_privileges],
    )
    .await?;
    let invoker_views = version_num >= 150_000;
    Ok(rows
        .iter()
        .map(|row| {
            let kind = match row.get::<_, &str>(0) {
                "routine" => CodeKind::DefinerRoutine,
                "view" if invoker_views => CodeKind::OwnerRightsView,
                "view" => CodeKind::RevokedView,
                "trigger" => CodeKind::Trigger,
                "rule" => CodeKind::Rule,
                "view_rule" => CodeKind::ViewRule,
                "index" => CodeKind::ExpressionIndex,
                "statistics" => CodeKind::ExpressionStatistics,
                "expression" => CodeKind::TableExpression,
                "shadow" => CodeKind::ShadowsBuiltIn,
                "code_grant" => CodeKind::CodeGrant,
                "forced_policies" => CodeKind::ForcedPolicies,
                "unchangeable" => CodeKind::Unchangeable,
                _ => CodeKind::MaterializedView,
            };
            LeftCode {
                object: row.get(1),
                kind,
                target: row.get(2),
                name: row.get(3),
                grantees: row
                    .get::<_, Option<Vec<Option<String>>>>(4)
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// The statements that make `code` safe to hand to the protected user.
/// The user's SECURITY DEFINER routines in this database, by oid and as
/// `regprocedure` text: any role may call them (PUBLIC may execute a new
/// routine), and a call runs as the user.
pub(super) async fn definer_routines(
    client: &impl GenericClient,
    oid: u32,
) -> Result<Vec<(u32, String)>, tokio_postgres::Error> {
    let rows = client.query(super::sql::DEFINER_ROUTINES, &[&oid]).await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Statements giving each routine of `routines` (`regprocedure` text) its
/// caller's rights, or its owner's again (`definer`).
pub(super) fn routines_security(routines: &[String], definer: bool) -> String {
    let security = if definer { "DEFINER" } else { "INVOKER" };
    routines
        .iter()
        .map(|routine| format!("ALTER ROUTINE {routine} SECURITY {security};"))
        .collect()
}

pub(super) fn neutralise(code: &[LeftCode]) -> String {
    code.iter().map(LeftCode::statement).collect()
}

/// Why `user` may not be deleted yet, when its `code` holds what pgusers
/// cannot make safe ([`CodeKind::Unchangeable`]): each object, and what a
/// person runs once they have reviewed the functions it calls
/// (`review_statement.sql`: hand each to the protected user, or say a
/// moved one is reviewed).
pub(super) fn refusal(code: &[LeftCode], user: &str) -> Option<super::RoleError> {
    let unchangeable: Vec<&LeftCode> = code
        .iter()
        .filter(|c| c.kind == CodeKind::Unchangeable)
        .collect();
    if unchangeable.is_empty() {
        return None;
    }
    // Each function's review statement, once.
    let mut reviews: Vec<&str> = unchangeable
        .iter()
        .filter_map(|c| c.name.as_deref())
        .collect();
    reviews.sort_unstable();
    reviews.dedup();
    Some(super::RoleError::CodeToReview {
        user: user.to_owned(),
        code: unchangeable
            .iter()
            .map(|c| {
                format!(
                    "{} calls {}",
                    c.object,
                    c.target.as_deref().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        fix: reviews.join(" "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(kind: CodeKind, target: &str, grantees: Vec<Option<String>>) -> LeftCode {
        LeftCode {
            object: "x".into(),
            kind,
            target: Some(target.into()),
            name: None,
            grantees,
        }
    }

    #[test]
    fn definer_functions_become_invoker_and_views_read_as_their_caller() {
        let statements = neutralise(&[
            code(CodeKind::DefinerRoutine, "innocent()", vec![]),
            code(CodeKind::OwnerRightsView, "public.report", vec![]),
            code(CodeKind::MaterializedView, "totals", vec![]),
        ]);
        assert_eq!(
            statements,
            "ALTER ROUTINE innocent() SECURITY INVOKER;\
             ALTER VIEW public.report SET (security_invoker = true);"
        );
    }

    #[test]
    fn a_view_on_postgresql_14_is_revoked_from_every_grantee_quoted() {
        let view = code(
            CodeKind::RevokedView,
            "report",
            vec![None, Some("Readers \"x\"".into())],
        );
        assert_eq!(
            neutralise(&[view]),
            "REVOKE ALL ON report FROM PUBLIC, \"Readers \"\"x\"\"\";"
        );
        let ungranted = code(CodeKind::RevokedView, "report", vec![]);
        assert_eq!(neutralise(&[ungranted]), "");
    }

    #[test]
    fn triggers_and_rules_are_disabled_by_their_quoted_names_and_expression_indexes_dropped() {
        let named = |kind, name: &str| LeftCode {
            name: Some(name.into()),
            ..code(kind, "public.orders", vec![])
        };
        assert_eq!(
            neutralise(&[
                named(CodeKind::Trigger, "Audit \"x\""),
                named(CodeKind::Rule, "r"),
                code(CodeKind::ExpressionIndex, "public.orders_idx", vec![]),
                code(CodeKind::ExpressionStatistics, "public.st", vec![]),
            ]),
            "ALTER TABLE public.orders DISABLE TRIGGER \"Audit \"\"x\"\"\";\
             ALTER TABLE public.orders DISABLE RULE \"r\";\
             DROP INDEX public.orders_idx;\
             DROP STATISTICS public.st;"
        );
    }
}
