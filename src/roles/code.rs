//! Code a deleted user leaves behind.
//!
//! Deleting a user moves what it owns to the protected user, so no table is
//! lost. Its code moves too, and some code runs with its *owner's* rights:
//! a `SECURITY DEFINER` function, or a view (which reads tables as its
//! owner). Moved as it is, a read-write user's `innocent()` would then act
//! as the protected user for anyone allowed to call it. So before the move:
//! - `SECURITY DEFINER` functions and procedures become `SECURITY INVOKER`:
//!   they run with the rights of whoever calls them;
//! - views get `security_invoker = true` (PostgreSQL 15+): they read tables
//!   with the rights of whoever queries them. PostgreSQL 14 has no such
//!   option, so there every grant on the view is revoked instead: the view
//!   stays, readable by the protected user, who may grant it again after
//!   reading its definition;
//! - what cannot be changed without changing what it does is named on the
//!   confirmation page: materialized views (a refresh runs their query as
//!   their owner), triggers that call the user's functions, and rules on
//!   its tables (their actions run as the table's owner).

use deadpool_postgres::GenericClient;

use super::sql::ident;

/// One piece of a user's code that could act with its owner's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftCode {
    /// As PostgreSQL describes it: `function innocent()`, `view report`…
    pub object: String,
    pub kind: CodeKind,
    /// How statements name it (a `regprocedure` or `regclass`), when they
    /// change it.
    target: Option<String>,
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
    /// Left as it is; named so a person reviews it.
    MaterializedView,
    Trigger,
    Rule,
}

impl LeftCode {
    /// What the deletion does about it, as a statement (empty when nothing).
    fn statement(&self) -> String {
        let Some(target) = &self.target else {
            return String::new();
        };
        match self.kind {
            CodeKind::DefinerRoutine => format!("ALTER ROUTINE {target} SECURITY INVOKER;"),
            CodeKind::OwnerRightsView => {
                format!("ALTER VIEW {target} SET (security_invoker = true);")
            }
            CodeKind::RevokedView if !self.grantees.is_empty() => {
                let grantees: Vec<String> = self
                    .grantees
                    .iter()
                    .map(|g| g.as_deref().map_or_else(|| "PUBLIC".to_owned(), ident))
                    .collect();
                format!("REVOKE ALL ON {target} FROM {};", grantees.join(", "))
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
            CodeKind::MaterializedView => write!(
                f,
                "{object}: refreshing it runs its query with its owner's rights, which will \
                 be the protected user's; review it before refreshing it."
            ),
            CodeKind::Trigger => write!(
                f,
                "{object} calls {}: it keeps running, with the rights of whoever changes the \
                 table.",
                self.target.as_deref().unwrap_or("a function of this user")
            ),
            CodeKind::Rule => write!(
                f,
                "{object}: its actions run with the table owner's rights, which will be the \
                 protected user's; review it."
            ),
        }
    }
}

/// The code role `oid` owns in the current database (or calls from a
/// trigger) that could act with its owner's rights.
pub(super) async fn find(
    client: &impl GenericClient,
    oid: u32,
    version_num: i32,
) -> Result<Vec<LeftCode>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT 'routine', pg_describe_object('pg_proc'::regclass, p.oid, 0),
                    p.oid::regprocedure::text, NULL::text[]
               FROM pg_proc p WHERE p.proowner = $1 AND p.prosecdef
             UNION ALL
             SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'matview' END,
                    pg_describe_object('pg_class'::regclass, c.oid, 0), c.oid::regclass::text,
                    ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL
                                               ELSE pg_get_userbyid(a.grantee)::text END
                            FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner)
               FROM pg_class c WHERE c.relowner = $1 AND c.relkind IN ('v', 'm')
             UNION ALL
             SELECT 'trigger', pg_describe_object('pg_trigger'::regclass, t.oid, 0),
                    t.tgfoid::regprocedure::text, NULL
               FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
              WHERE p.proowner = $1 AND NOT t.tgisinternal
             UNION ALL
             SELECT 'rule', pg_describe_object('pg_rewrite'::regclass, r.oid, 0), NULL, NULL
               FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
              WHERE c.relowner = $1 AND r.rulename <> '_RETURN'
              ORDER BY 1, 2",
            &[&oid],
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
                "matview" => CodeKind::MaterializedView,
                "trigger" => CodeKind::Trigger,
                _ => CodeKind::Rule,
            };
            LeftCode {
                object: row.get(1),
                kind,
                target: row.get(2),
                grantees: row
                    .get::<_, Option<Vec<Option<String>>>>(3)
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// The statements that make `code` safe to hand to the protected user.
pub(super) fn neutralise(code: &[LeftCode]) -> String {
    code.iter().map(LeftCode::statement).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(kind: CodeKind, target: &str, grantees: Vec<Option<String>>) -> LeftCode {
        LeftCode {
            object: "x".into(),
            kind,
            target: Some(target.into()),
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
}
