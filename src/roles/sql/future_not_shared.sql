-- Roles whose tables and sequences made from now on, in any schema, will not
-- reach pgusers' groups: their global default privileges (no IN SCHEMA, so
-- schemas made later are covered) lack part of what pgusers sets. The roles
-- looked at make what the groups share: they own a relation in an
-- application schema (app_schemas.sql; extensions' objects aside), or they
-- are read-write users pgusers made (members of the writers group). The
-- protected user is group_gaps.sql's; pgusers' own role (on 16+ a member of
-- the roles it made) is one only when it owns a relation there. What is
-- wanted: the writers group the guide's read-write privileges ($2 on tables,
-- $3 on sequences), the readers group SELECT; for a user pgusers made, also
-- the protected user the same as the writers and USAGE on the schemas it
-- makes for all three. A group that does not exist is wanted nothing.
-- The roles looked at are every read-write user: `lacking` judges them all
-- in one pass. Returns the role; whether pgusers made it;
-- whether it is a privileged owner (privileged_owner.sql: default privileges
-- of its would give the groups its views, which read with its rights);
-- whether pgusers' role may act for it (has its privileges, or may take them:
-- ADMIN OPTION on 16+, CREATEROLE and a role that is no superuser before). $1
-- is the protected user. Fills: database_facts.sql, app_schemas.sql,
-- privileged_owner.sql.
WITH facts AS ({database_facts}),
     {app_schemas},
     groups AS (
       SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.writers) AS writers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS readers,
              facts.protected_oid AS protected, facts.admin_oid AS admin,
              (SELECT oid FROM pg_roles WHERE rolname = facts.mark) AS mark,
              facts.version_num
         FROM facts),
     makers AS (
       SELECT c.relowner AS oid
         FROM pg_class c JOIN app_schemas s ON s.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                           WHERE d.classid = 'pg_class'::regclass
                             AND d.objid = c.oid AND d.deptype = 'e')
       UNION
       SELECT m.member FROM pg_auth_members m, groups g
        WHERE m.roleid = g.writers AND m.member <> g.admin),
     judged AS (
       SELECT r.oid, r.rolname, r.rolsuper,
              -- (The mark role's members read once, hashed.)
              r.oid IN (SELECT m.member FROM pg_auth_members m, groups g
                         WHERE m.roleid = g.mark AND m.member <> g.admin) AS made
         FROM makers k JOIN pg_roles r ON r.oid = k.oid, groups g
        WHERE r.oid IS DISTINCT FROM g.protected
          AND r.oid IS DISTINCT FROM g.writers AND r.oid IS DISTINCT FROM g.readers
          AND r.rolname !~ '^pg_'),
     wanted(made_only, kind, grantee, privilege) AS (
       SELECT false, 'r', g.writers, p FROM groups g, unnest($2::text[]) p
       UNION ALL SELECT false, 'S', g.writers, p FROM groups g, unnest($3::text[]) p
       UNION ALL SELECT false, 'r', g.readers, 'SELECT' FROM groups g
       UNION ALL SELECT false, 'S', g.readers, 'SELECT' FROM groups g
       UNION ALL SELECT true, 'r', g.protected, p FROM groups g, unnest($2::text[]) p
       UNION ALL SELECT true, 'S', g.protected, p FROM groups g, unnest($3::text[]) p
       UNION ALL SELECT true, 'n', w, 'USAGE'
                   FROM groups g, unnest(ARRAY[g.writers, g.readers, g.protected]) w),
     -- Every (role, wanted privilege) its global default privileges lack,
     -- in one pass: each wanted privilege is looked for with aclcontains
     -- (an item of that grantee, granted by the role, holding at least it:
     -- a default privilege's items are all granted by its role), one
     -- privilege at a time (makeaclitem takes several only from 16), never
     -- unpacking an ACL nor reading a role's name.
     lacking(oid) AS (
       SELECT DISTINCT j.oid
         FROM judged j CROSS JOIN wanted w
         LEFT JOIN pg_default_acl d
           ON d.defaclrole = j.oid AND d.defaclnamespace = 0
          AND d.defaclobjtype = w.kind::"char"
        WHERE w.grantee IS NOT NULL AND (j.made OR NOT w.made_only)
          AND NOT COALESCE(aclcontains(d.defaclacl,
                                       makeaclitem(w.grantee, j.oid, w.privilege, false)),
                           false))
SELECT j.rolname::text, j.made,
       -- (Judged only for the roles that lack something: the walk up
       -- their memberships is not for every read-write user.)
       (SELECT {privileged_owner} FROM pg_roles r WHERE r.oid = j.oid),
       pg_has_role(current_user, j.oid, 'USAGE')
       OR CASE WHEN g.version_num >= 160000
               THEN pg_has_role(current_user, j.oid, 'USAGE WITH ADMIN OPTION')
               ELSE NOT j.rolsuper
                    AND (SELECT rolcreaterole FROM pg_roles WHERE oid = g.admin) END
  FROM judged j JOIN lacking l ON l.oid = j.oid, groups g
 ORDER BY 1
