-- Memberships that are not what pgusers grants, one row each: on PostgreSQL
-- 16+, a membership of a group (one row per grantor: a grant made by another
-- role is a row of its own) that lets its member SET ROLE to the group
-- ('set'); on every version, one with ADMIN OPTION, which lets its member
-- make anyone a member ('admin'); a member that does not have the group's
-- privileges ('no_inherit': a NOINHERIT role before 16, memberships without
-- INHERIT from 16; grantor NULL); a user pgusers made (a member of the mark role)
-- that is a member of both groups ('both': it writes, yet is listed
-- read-only) or of neither ('neither': it has none of its kind's rights).
-- pgusers' own role (on 16+ a member of the roles it made) is never one.
-- Returns the member, the group (NULL for 'both' and 'neither') and the
-- grantor (NULL but for 'set' and 'admin'), and which. The options of 16
-- are read through jsonb, so the query prepares before 16 too (a role's
-- INHERIT attribute decides there). $1 is the protected
-- user. Fills: database_facts.sql.
WITH facts AS ({database_facts}),
     g AS (
       SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.writers) AS writers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS readers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.mark) AS mark,
              facts.admin_oid AS admin
         FROM facts),
     rows_of AS (
       SELECT m.member, m.roleid, m.grantor, m.admin_option,
              COALESCE((to_jsonb(m) ->> 'set_option')::boolean, false) AS set_option,
              COALESCE((to_jsonb(m) ->> 'inherit_option')::boolean, true) AS inherit_option
         FROM pg_auth_members m, g
        WHERE m.roleid IN (g.writers, g.readers) AND m.member <> g.admin)
SELECT pg_get_userbyid(x.member)::text, pg_get_userbyid(x.roleid)::text,
       pg_get_userbyid(x.grantor)::text, w.what
  FROM rows_of x
 CROSS JOIN LATERAL (VALUES ('set', x.set_option), ('admin', x.admin_option)) w(what, found)
 WHERE w.found
UNION ALL
SELECT pg_get_userbyid(x.member)::text, pg_get_userbyid(x.roleid)::text,
       NULL::text, 'no_inherit'
  FROM rows_of x JOIN pg_roles r ON r.oid = x.member CROSS JOIN facts
 GROUP BY x.member, x.roleid, r.rolinherit, facts.version_num
HAVING NOT bool_or(CASE WHEN facts.version_num >= 160000 THEN x.inherit_option
                        ELSE r.rolinherit END)
UNION ALL
SELECT r.rolname::text, NULL, NULL,
       CASE WHEN count(x.roleid) = 0 THEN 'neither' ELSE 'both' END
  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member CROSS JOIN g
  LEFT JOIN pg_auth_members x
    ON x.member = m.member AND x.roleid IN (g.writers, g.readers)
 WHERE m.roleid = g.mark AND m.member <> g.admin
 GROUP BY r.rolname
HAVING count(DISTINCT x.roleid) <> 1
 ORDER BY 1, 2, 3, 4
