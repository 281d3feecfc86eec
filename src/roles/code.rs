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
//!   predicates run another role's code (see [`others`] and [`reached`]:
//!   through operators, operator classes and types too) are dropped:
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
//! person runs after reviewing it ([`review`]): handing the function to
//! the protected user (`ALTER ROUTINE … OWNER TO`), which says it may run
//! as it.
//!
//! A deleted user's routines move to the protected user commented as
//! unreviewed ([`UNREVIEWED`]): until a person removes that comment they
//! are still another role's code, so a later delete of a user whose table
//! calls one is judged as if its maker still owned it.

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

/// CTEs (to follow `WITH RECURSIVE`) finding the code a value of a type
/// makes PostgreSQL run: `type_chain(type, member)`, the types a domain,
/// array, range, multirange or composite type is made of (through base
/// types, elements, ranges, columns, and the types its domains' checks
/// cast to), and `type_code(type, fn, kind)`, the functions they call: a
/// domain's check constraints (`kind` 'domain': run when a value is
/// checked) and a range's `subtype_diff` and `canonical` ('range': run by
/// `ANALYZE`, with nobody acting).
pub(super) const TYPE_CODE: &str = "
  type_chain(type, member) AS (
      -- Composite types (a table's row type too) only when a column is of
      -- a type that may carry code: most tables' columns are base types.
      SELECT t.oid, t.oid FROM pg_type t
       WHERE t.typtype IN ('d', 'r', 'm')
          OR (t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_type e
                                          WHERE e.oid = t.typelem
                                            AND e.typtype IN ('d', 'r', 'm', 'c')))
          OR (t.typtype = 'c' AND EXISTS (
                SELECT 1 FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid
                 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
                   AND (y.typtype IN ('d', 'r', 'm', 'c') OR y.typelem <> 0)))
      UNION
      SELECT c.type, n.next
        FROM type_chain c
       CROSS JOIN LATERAL (
             SELECT t.typbasetype AS next FROM pg_type t
              WHERE t.oid = c.member AND t.typtype = 'd'
             UNION ALL
             SELECT t.typelem FROM pg_type t WHERE t.oid = c.member AND t.typelem <> 0
             UNION ALL
             SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = c.member
             UNION ALL
             SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = c.member
             UNION ALL
             -- a domain whose check casts to another type runs its code too
             SELECT d.refobjid FROM pg_constraint k
               JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
              WHERE k.contypid = c.member AND d.refclassid = 'pg_type'::regclass
             UNION ALL
             -- a composite type's columns
             SELECT a.atttypid FROM pg_type t
               JOIN pg_attribute a ON a.attrelid = t.typrelid
              WHERE t.oid = c.member AND t.typtype = 'c' AND a.attnum > 0
                AND NOT a.attisdropped) n
  ),
  type_code(type, fn, kind) AS (
      SELECT c.type, CASE d.refclassid WHEN 'pg_proc'::regclass THEN d.refobjid
                       ELSE (SELECT o.oprcode FROM pg_operator o WHERE o.oid = d.refobjid) END,
             'domain'
        FROM type_chain c
        JOIN pg_constraint k ON k.contypid = c.member
        JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
       WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
      UNION ALL
      SELECT c.type, f.fn, 'range'
        FROM type_chain c
        JOIN pg_range r ON r.rngtypid = c.member
       CROSS JOIN LATERAL unnest(ARRAY[r.rngsubdiff, r.rngcanonical]::oid[]) f(fn)
       WHERE f.fn <> 0
  )";

/// The functions `pg_depend` row `{d}` makes PostgreSQL run, as a query of
/// one column: a function; an operator's; an operator class's support
/// functions and operators'; a type's ([`TYPE_CODE`]).
pub(super) fn reached(d: &str) -> String {
    format!(
        "SELECT {d}.refobjid WHERE {d}.refclassid = 'pg_proc'::regclass
         UNION ALL
         SELECT o.oprcode FROM pg_operator o
          WHERE {d}.refclassid = 'pg_operator'::regclass AND o.oid = {d}.refobjid
         UNION ALL
         SELECT p.amproc FROM pg_opclass c JOIN pg_amproc p ON p.amprocfamily = c.opcfamily
          WHERE {d}.refclassid = 'pg_opclass'::regclass AND c.oid = {d}.refobjid
         UNION ALL
         SELECT o.oprcode FROM pg_opclass c
           JOIN pg_amop a ON a.amopfamily = c.opcfamily
           JOIN pg_operator o ON o.oid = a.amopopr
          WHERE {d}.refclassid = 'pg_opclass'::regclass AND c.oid = {d}.refobjid
         UNION ALL
         SELECT t.fn FROM type_code t
          WHERE {d}.refclassid = 'pg_type'::regclass AND t.type = {d}.refobjid"
    )
}

/// Whether function `{f}` (a `pg_proc` row) is *another role's code*:
/// outside `pg_catalog`, owned neither by the protected user (`$2`) nor by
/// a superuser (an extension an administrator installed). The deleted
/// user's own functions are.
fn others(f: &str) -> String {
    format!(
        "({f}.pronamespace <> 'pg_catalog'::regnamespace
          AND ({f}.proowner <> (SELECT oid FROM pg_roles WHERE rolname = $2)
               OR starts_with(COALESCE(obj_description({f}.oid, 'pg_proc'), ''), '{UNREVIEWED}'))
          AND NOT (SELECT rolsuper FROM pg_roles WHERE oid = {f}.proowner))"
    )
}

/// How a deleted user's routines are told apart once the protected user
/// owns them: their comment starts so (the routine's own comment, if any,
/// follows). Until a person reviews one (removing that comment), it counts
/// as another role's code: the protected user never wrote it.
const UNREVIEWED: &str = "pgusers: unreviewed code of deleted user ";

/// Statements commenting every routine of user `$1` (named `$2`) as
/// unreviewed ([`UNREVIEWED`]), keeping its own comment after it; run
/// before its routines move to the protected user.
pub(super) const MARK_UNREVIEWED: &str = "
    SELECT format('COMMENT ON ROUTINE %s IS %L;', p.oid::regprocedure,
                  'pgusers: unreviewed code of deleted user ' || quote_ident($2::text)
                  || COALESCE('; its comment was: ' || obj_description(p.oid, 'pg_proc'), ''))
      FROM pg_proc p WHERE p.proowner = $1 ORDER BY p.oid";

/// What a person runs once they have reviewed function `{f}` and trust it
/// to run as the protected user (`$2`): hand it over, or, when a delete
/// already did, remove the [`UNREVIEWED`] comment (putting its own back).
fn review(f: &str) -> String {
    format!(
        "CASE WHEN {f}.proowner = (SELECT oid FROM pg_roles WHERE rolname = $2)
              THEN format('COMMENT ON ROUTINE %s IS %s;', {f}.oid::regprocedure,
                          COALESCE(quote_literal(substring(obj_description({f}.oid, 'pg_proc')
                                                           FROM '; its comment was: (.*)$')),
                                   'NULL'))
              ELSE format('ALTER ROUTINE %s OWNER TO %I;', {f}.oid::regprocedure, $2::text) END"
    )
}

/// Whether `pg_depend` row `d` makes PostgreSQL run another role's code
/// ([`reached`], [`others`]).
fn calls_others_code() -> String {
    format!(
        "EXISTS (SELECT 1 FROM ({reached}) r(fn) JOIN pg_proc f ON f.oid = r.fn WHERE {others})",
        reached = reached("d"),
        others = others("f")
    )
}

/// Rows `(source, function, review)` for the other roles' functions that the
/// `pg_depend` rows `d` matching `filter` make PostgreSQL run, where
/// `source` is the SQL expression naming the depender.
fn others_code(source: &str, filter: &str) -> String {
    format!(
        "SELECT {source} AS source, f.oid::regprocedure::text AS function, {review} AS review
           FROM pg_depend d
          CROSS JOIN LATERAL ({reached}) r(fn)
           JOIN pg_proc f ON f.oid = r.fn
          WHERE {filter} AND {others}",
        reached = reached("d"),
        others = others("f"),
        review = review("f")
    )
}

/// The code role `oid` owns in the current database (or calls from a
/// trigger) that could act with its owner's rights, once `protected` owns
/// it.
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
    let partition_key = others_code(
        "pg_describe_object('pg_class'::regclass, d.objid, 0)",
        "d.classid = 'pg_class'::regclass AND d.objsubid = 0
            AND d.objid IN (SELECT c.oid FROM pg_class c WHERE c.relowner = $1 AND c.relkind = 'p')",
    );
    let exclusion = others_code(
        "(SELECT pg_describe_object('pg_constraint'::regclass, k.oid, 0) FROM pg_constraint k
           WHERE k.conindid = d.objid AND k.contype = 'x')",
        "d.classid = 'pg_class'::regclass
            AND d.objid IN (SELECT k.conindid FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
                             WHERE k.contype = 'x' AND t.relowner = $1)",
    );
    let calls_others_code = calls_others_code();
    let reached = reached("d");
    let others_p = others("p");
    let others_f = others("f");
    let review_f = review("f");
    let query = format!(
        "WITH RECURSIVE {TYPE_CODE}
         SELECT 'routine', pg_describe_object('pg_proc'::regclass, p.oid, 0),
                p.oid::regprocedure::text, NULL::text, NULL::text[]
           FROM pg_proc p WHERE p.proowner = $1 AND p.prosecdef
         UNION ALL
         SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'matview' END,
                pg_describe_object('pg_class'::regclass, c.oid, 0), c.oid::regclass::text, NULL,
                ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL
                                           ELSE pg_get_userbyid(a.grantee)::text END
                        FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                       WHERE a.grantee <> c.relowner)
           FROM pg_class c WHERE c.relowner = $1 AND c.relkind IN ('v', 'm')
         UNION ALL
         SELECT 'trigger', pg_describe_object('pg_trigger'::regclass, t.oid, 0),
                t.tgrelid::regclass::text, t.tgname::text, NULL
           FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
          WHERE NOT t.tgisinternal
            AND (p.proowner = $1
                 -- or its WHEN condition runs one of the user's functions
                 -- (directly, through an operator or a type)
                 OR EXISTS (SELECT 1 FROM pg_depend d CROSS JOIN LATERAL ({reached}) r(fn)
                              JOIN pg_proc q ON q.oid = r.fn
                             WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                               AND q.proowner = $1)
                 -- or, on one of its tables, another role's code
                 OR (EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.tgrelid AND c.relowner = $1)
                     AND ({others_p}
                          OR EXISTS (SELECT 1 FROM pg_depend d
                                      WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                                        AND {calls_others_code}))))
         UNION ALL
         SELECT CASE WHEN c.relkind IN ('r', 'p') THEN 'rule' ELSE 'view_rule' END,
                pg_describe_object('pg_rewrite'::regclass, r.oid, 0),
                r.ev_class::regclass::text, r.rulename::text, NULL
           FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
          WHERE c.relowner = $1 AND r.rulename <> '_RETURN'
         UNION ALL
         SELECT 'index', pg_describe_object('pg_class'::regclass, i.indexrelid, 0),
                i.indexrelid::regclass::text, NULL, NULL
           FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
          WHERE t.relowner = $1
            -- A constraint's index cannot be dropped alone (see 'unchangeable'),
            -- and a partition's goes with its parent's.
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
            AND EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                           AND {calls_others_code})
         UNION ALL
         SELECT 'statistics', pg_describe_object('pg_statistic_ext'::regclass, e.oid, 0),
                quote_ident(n.nspname) || '.' || quote_ident(e.stxname), NULL, NULL
           FROM pg_statistic_ext e
           JOIN pg_class t ON t.oid = e.stxrelid
           JOIN pg_namespace n ON n.oid = e.stxnamespace
          WHERE (t.relowner = $1 OR e.stxowner = $1)
            AND EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_statistic_ext'::regclass AND d.objid = e.oid
                           AND {calls_others_code})
         UNION ALL
         SELECT 'shadow', pg_describe_object('pg_proc'::regclass, p.oid, 0), NULL, NULL, NULL
           FROM pg_proc p
          WHERE p.proowner = $1 AND p.pronamespace <> 'pg_catalog'::regnamespace
            AND EXISTS (SELECT 1 FROM pg_proc b
                         WHERE b.pronamespace = 'pg_catalog'::regnamespace
                           AND b.proname = p.proname)
         UNION ALL
         SELECT 'shadow', pg_describe_object('pg_operator'::regclass, o.oid, 0), NULL, NULL, NULL
           FROM pg_operator o
          WHERE o.oprowner = $1 AND o.oprnamespace <> 'pg_catalog'::regnamespace
            AND EXISTS (SELECT 1 FROM pg_operator b
                         WHERE b.oprnamespace = 'pg_catalog'::regnamespace
                           AND b.oprname = o.oprname)
         UNION ALL
         SELECT 'expression', pg_describe_object(d.classid, d.objid, 0), NULL, NULL, NULL
           FROM pg_depend d
          WHERE ((d.classid = 'pg_constraint'::regclass AND EXISTS (
                     SELECT 1 FROM pg_constraint k
                       LEFT JOIN pg_class t ON t.oid = k.conrelid
                       LEFT JOIN pg_type y ON y.oid = k.contypid
                      WHERE k.oid = d.objid AND (t.relowner = $1 OR y.typowner = $1)))
              OR (d.classid = 'pg_attrdef'::regclass AND EXISTS (
                     SELECT 1 FROM pg_attrdef a JOIN pg_class t ON t.oid = a.adrelid
                      WHERE a.oid = d.objid AND t.relowner = $1)))
            AND {calls_others_code}
          GROUP BY d.classid, d.objid
         UNION ALL
         SELECT 'code_grant', pg_describe_object('pg_class'::regclass, c.oid, 0),
                c.oid::regclass::text,
                array_to_string(ARRAY(SELECT DISTINCT a.privilege_type
                                        FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                                       WHERE a.grantee <> c.relowner
                                         AND a.privilege_type = ANY ($3::text[])
                                       ORDER BY 1), ', '),
                ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL
                                           ELSE pg_get_userbyid(a.grantee)::text END
                        FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                       WHERE a.grantee <> c.relowner AND a.privilege_type = ANY ($3::text[]))
           FROM pg_class c
          WHERE c.relowner = $1 AND c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            AND EXISTS (SELECT 1 FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                         WHERE a.grantee <> c.relowner AND a.privilege_type = ANY ($3::text[]))
         UNION ALL
         SELECT 'forced_policies', pg_describe_object('pg_class'::regclass, c.oid, 0),
                c.oid::regclass::text, NULL, NULL
           FROM pg_class c
          WHERE c.relowner = $1 AND c.relforcerowsecurity
            AND EXISTS (SELECT 1 FROM pg_policy y JOIN pg_depend d
                                   ON d.classid = 'pg_policy'::regclass AND d.objid = y.oid
                         WHERE y.polrelid = c.oid AND {calls_others_code})
         UNION ALL
         SELECT DISTINCT 'unchangeable', pg_describe_object('pg_type'::regclass, r.rngtypid, 0),
                f.oid::regprocedure::text, {review_f}, NULL::text[]
           FROM pg_range r JOIN pg_type y ON y.oid = r.rngtypid
           JOIN pg_proc f ON f.oid IN (r.rngsubdiff, r.rngcanonical)
          WHERE (y.typowner = $1 OR f.proowner = $1) AND {others_f}
         UNION ALL
         -- A column of its tables whose values are of such a range type
         -- (through domains, arrays and multiranges too): ANALYZE calls it.
         SELECT DISTINCT 'unchangeable', pg_describe_object('pg_class'::regclass, a.attrelid, a.attnum),
                f.oid::regprocedure::text, {review_f}, NULL::text[]
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN type_code y ON y.type = a.atttypid AND y.kind = 'range'
           JOIN pg_proc f ON f.oid = y.fn
          WHERE c.relowner = $1 AND a.attnum > 0 AND NOT a.attisdropped AND {others_f}
         UNION ALL
         SELECT DISTINCT 'unchangeable', x.source, x.function, x.review, NULL::text[]
           FROM ({partition_key} UNION ALL {exclusion}) x
         UNION ALL
         -- A foreign key's check runs as the referenced table's owner and
         -- converts the referencing column with its type's cast.
         SELECT DISTINCT 'unchangeable', pg_describe_object('pg_constraint'::regclass, k.oid, 0),
                f.oid::regprocedure::text, {review_f}, NULL::text[]
           FROM pg_constraint k
          CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS cols(fk_att, pk_att)
           JOIN pg_attribute fa ON fa.attrelid = k.conrelid AND fa.attnum = cols.fk_att
           JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = cols.pk_att
           -- Through domains: a cast is from and to base types.
           JOIN pg_cast x
             ON x.castsource IN (SELECT fa.atttypid
                                 UNION ALL SELECT member FROM type_chain WHERE type = fa.atttypid)
            AND x.casttarget IN (SELECT pa.atttypid
                                 UNION ALL SELECT member FROM type_chain WHERE type = pa.atttypid)
           JOIN pg_proc f ON f.oid = x.castfunc
          WHERE k.contype = 'f'
            AND $1 IN ((SELECT relowner FROM pg_class WHERE oid = k.conrelid),
                       (SELECT relowner FROM pg_class WHERE oid = k.confrelid))
            AND {others_f}
          ORDER BY 1, 2"
    );
    let rows = client
        .query(&query, &[&oid, &protected, &code_privileges])
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
    let rows = client
        .query(
            "SELECT p.oid, p.oid::regprocedure::text FROM pg_proc p
              WHERE p.proowner = $1 AND p.prosecdef ORDER BY 2",
            &[&oid],
        )
        .await?;
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
/// person runs once they have reviewed the functions it calls ([`review`]:
/// hand each to the protected user, or say a moved one is reviewed).
pub(super) fn refusal(code: &[LeftCode], user: &str) -> Option<super::RoleError> {
    let unchangeable: Vec<&LeftCode> = code
        .iter()
        .filter(|c| c.kind == CodeKind::Unchangeable)
        .collect();
    if unchangeable.is_empty() {
        return None;
    }
    // Each function's review statement ([`review`]), once.
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
