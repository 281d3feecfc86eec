-- Memberships that are not what pgusers grants: on PostgreSQL 16+, a
-- membership of a group that lets its member SET ROLE to it (one row per
-- grantor: a grant made by another role is a row of its own); and a user
-- pgusers made (a member of the mark role) that is a member of neither group,
-- so has none of its kind's rights. pgusers' own role (on 16+ a member of
-- the roles it made) is never one. Returns the member, then for a SET
-- membership the group and its grantor (both NULL for a user in neither).
-- set_option is read through jsonb, so the query prepares before 16 too.
-- $1 is the protected user. Fills: database_facts.sql.
WITH facts AS ({database_facts}),
     g AS (
       SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.writers) AS writers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS readers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.mark) AS mark,
              facts.admin_oid AS admin
         FROM facts)
SELECT pg_get_userbyid(m.member)::text, pg_get_userbyid(m.roleid)::text,
       pg_get_userbyid(m.grantor)::text
  FROM pg_auth_members m, g
 WHERE m.roleid IN (g.writers, g.readers) AND m.member <> g.admin
   AND COALESCE((to_jsonb(m) ->> 'set_option')::boolean, false)
UNION ALL
SELECT r.rolname::text, NULL, NULL
  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member, g
 WHERE m.roleid = g.mark AND m.member <> g.admin
   AND NOT EXISTS (SELECT 1 FROM pg_auth_members x
                    WHERE x.member = m.member
                      AND x.roleid IN (g.writers, g.readers))
 ORDER BY 1, 2, 3
