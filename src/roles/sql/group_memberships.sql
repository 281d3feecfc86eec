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
-- grantor (NULL but for 'set' and 'admin'), and which. $1 is the protected
-- user. Fills: database_facts.sql, and set_option and inherit_option, a
-- membership m's options: its own columns from 16; before, none that
-- allows less than SET ROLE, and the member's INHERIT attribute (sql.rs).
WITH facts AS ({database_facts}),
     g AS (
       SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.writers) AS writers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS readers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.mark) AS mark,
              facts.admin_oid AS admin
         FROM facts),
     rows_of AS MATERIALIZED (
       SELECT m.member, m.roleid, m.grantor, m.admin_option,
              {set_option} AS set_option, {inherit_option} AS inherit_option
         FROM pg_auth_members m CROSS JOIN g
        WHERE m.roleid IN (g.writers, g.readers) AND m.member <> g.admin)
SELECT pg_get_userbyid(x.member)::text, pg_get_userbyid(x.roleid)::text,
       pg_get_userbyid(x.grantor)::text, w.what
  FROM rows_of x
 CROSS JOIN LATERAL (VALUES ('set', x.set_option), ('admin', x.admin_option)) w(what, found)
 WHERE w.found
UNION ALL
SELECT pg_get_userbyid(x.member)::text, pg_get_userbyid(x.roleid)::text,
       NULL::text, 'no_inherit'
  FROM rows_of x
 GROUP BY x.member, x.roleid
HAVING NOT bool_or(x.inherit_option)
UNION ALL
-- (By oid, hashed, before any name is read: every user pgusers made is
-- a member of the mark role.)
SELECT pg_get_userbyid(k.member)::text, NULL, NULL,
       CASE WHEN k.writer OR k.reader THEN 'both' ELSE 'neither' END
  FROM (SELECT m.member,
               COALESCE(bool_or(x.roleid = g.writers), false) AS writer,
               COALESCE(bool_or(x.roleid = g.readers), false) AS reader
          FROM pg_auth_members m CROSS JOIN g
          LEFT JOIN rows_of x ON x.member = m.member
         WHERE m.roleid = g.mark AND m.member <> g.admin
         GROUP BY m.member) k
 WHERE k.writer = k.reader
 ORDER BY 1, 2, 3, 4
