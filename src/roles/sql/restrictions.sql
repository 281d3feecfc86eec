-- CTEs (to follow WITH RECURSIVE facts AS (...), scope(oid) AS (...))
-- defining restrictions(role, kind, via, detail) (and on the way readers(oid),
-- the readers group, writers(oid), the writers group, mark(oid), the mark
-- role, and readers_deps, the readers group's
-- shared dependencies, which the list also reads): for each role of scope
-- that is not an application user of this database, the first reason found,
-- in the order of Restriction in standing.rs. via is the role that carries
-- the reason (the role itself or one it is a member of); detail names
-- databases or objects. Only the roles of scope and those they are members of
-- are looked at, so judging a page of users costs what the page holds, not
-- what the server holds. Fills: large_object_grant.sql, privileged_owner.sql
-- (as a definer's), privileged_relation.sql, group_deps.sql.
-- Every lookup below is by index, one per role: the planner cannot tell
-- how few roles a page holds and how few groups they are in (it guesses
-- a recursive CTE's size), and would otherwise read whole catalogs to
-- hash them. `= ANY (ARRAY(...))` and a LATERAL subquery it may not
-- flatten (`OFFSET 0`) keep it to lookups.
-- The roles of scope are members of few roles, each with thousands of
-- members (the groups, the mark role): what is above them is walked once
-- per role above (`above`, each with itself), then joined to every member
-- (`ancestry`: a row per member and role it is a member of, directly or
-- not; a role granted twice, by two grantors, may appear twice).
direct(member, roleid) AS (
    SELECT m.member, m.roleid FROM pg_auth_members m
     WHERE m.member = ANY (ARRAY(SELECT oid FROM scope))
),
above(role, ancestor) AS (
    SELECT DISTINCT roleid, roleid FROM direct
    UNION
    SELECT a.role, m.roleid
      FROM above a
     CROSS JOIN LATERAL (SELECT m.roleid FROM pg_auth_members m
                          WHERE m.member = a.ancestor OFFSET 0) m
),
ancestry(member, ancestor) AS (
    SELECT d.member, a.ancestor FROM direct d JOIN above a ON a.role = d.roleid
),
involved(oid) AS (SELECT oid FROM scope UNION SELECT ancestor FROM above),
-- What the involved roles own or are granted, read once. Default
-- privileges in this database are left out: none of the checks below is
-- about them, and both groups and the protected user are named in every
-- read-write user's. The groups' are read always, apart (group_deps.sql:
-- whether the readers group only reads looks at what it owns, and a page of
-- read-write users does not involve it), and once. The others' are read by
-- the index on the role (`= ANY (ARRAY(...))`, not a join, so the planner
-- looks up each role rather than reading the whole catalog), but for
-- protected roles (the protected user, databases' owners): their own
-- restrictions are never read (a protected role is protected whatever
-- else), and through them their members are 'protected' or 'owner',
-- reasons that need no dependency.
-- The mark role's oid (see upgrade.rs), found once; the groups' are
-- group_deps.sql's.
mark AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.mark) AS oid FROM facts),
{group_deps},
readers_deps AS MATERIALIZED (
    SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
      FROM group_deps s
     WHERE s.refobjid = (SELECT oid FROM readers)
       AND s.classid <> 'pg_default_acl'::regclass
),
deps AS MATERIALIZED (
    SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
      FROM group_deps s
     WHERE s.classid <> 'pg_default_acl'::regclass
    UNION ALL
    SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
      FROM pg_shdepend s
     WHERE s.refclassid = 'pg_authid'::regclass
       AND s.refobjid = ANY (ARRAY(
               SELECT i.oid FROM involved i
                WHERE i.oid IS DISTINCT FROM (SELECT oid FROM readers)
                  AND i.oid IS DISTINCT FROM (SELECT oid FROM writers)
                  AND i.oid IS DISTINCT FROM (SELECT protected_oid FROM facts)
                  AND NOT EXISTS (SELECT 1 FROM pg_database o WHERE o.datdba = i.oid)))
       AND NOT (s.dbid = (SELECT oid FROM facts) AND s.classid = 'pg_default_acl'::regclass)
),
-- Other databases where a role owns objects or holds privileges: objects
-- inside a database carry its oid; a grant on a database itself is a
-- shared dependency (dbid 0) on that database. A privilege there whose
-- object belongs to an application user of this database (the grantor,
-- as a rule: `ALTER DEFAULT PRIVILEGES ... TO victim` run in another
-- database makes a default-privileges object owned by whoever ran it)
-- does not count: any user could otherwise make any other unmanageable.
-- That owner is judged by its attributes and by its ties to this
-- database alone, not by these rules (it may well be a user elsewhere
-- now, by that very object).
footprints(role, detail) AS (
    SELECT s.refobjid,
           string_agg(DISTINCT d.datname::text, ', ' ORDER BY d.datname::text)
      FROM deps s
      JOIN pg_database d
        ON d.oid = CASE WHEN s.dbid = 0 AND s.classid = 'pg_database'::regclass
                        THEN s.objid ELSE s.dbid END
     WHERE d.datname <> current_database()
       AND NOT {large_object_grant}
       -- What this database's groups or mark role made elsewhere (before
       -- 16 any member may act as them): the members' own doing, not a tie
       -- of theirs to another database.
       AND s.refobjid IS DISTINCT FROM (SELECT oid FROM readers)
       AND s.refobjid IS DISTINCT FROM (SELECT oid FROM writers)
       AND s.refobjid IS DISTINCT FROM (SELECT oid FROM mark)
       AND NOT (s.deptype = 'a' AND s.dbid <> 0 AND EXISTS (
             SELECT 1 FROM pg_shdepend o JOIN pg_roles g ON g.oid = o.refobjid
              WHERE o.dbid = s.dbid AND o.classid = s.classid AND o.objid = s.objid
                AND o.objsubid = 0 AND o.deptype = 'o'
                AND o.refclassid = 'pg_authid'::regclass
                -- (or by this database's groups or mark role, which any
                -- of their members may act as before 16)
                AND (g.oid = (SELECT oid FROM readers) OR g.oid = (SELECT oid FROM mark)
                     OR g.oid = (SELECT oid FROM writers)
                     OR (g.rolcanlogin AND g.rolname <> current_user
                AND NOT (g.rolsuper OR g.rolcreaterole OR g.rolcreatedb
                         OR g.rolreplication OR g.rolbypassrls)
                AND NOT EXISTS (SELECT 1 FROM pg_database od WHERE od.datdba = g.oid)
                AND (EXISTS (SELECT 1 FROM pg_shdepend h
                              WHERE h.refclassid = 'pg_authid'::regclass
                                AND h.refobjid = g.oid AND h.dbid = (SELECT oid FROM facts))
                     OR EXISTS (SELECT 1 FROM pg_auth_members m
                                 WHERE m.member = g.oid
                                   AND m.roleid IN ((SELECT oid FROM readers),
                                                    (SELECT oid FROM writers))))))))
     GROUP BY s.refobjid
),
-- Server-wide objects a role owns or holds privileges on: parameters
-- (GRANT SET/ALTER SYSTEM), tablespaces, subscriptions; one row each in
-- beyond_server, by role in server_wide.
beyond_server AS (
    SELECT s.refobjid, s.classid, s.objid, s.deptype
      FROM deps s
     WHERE s.dbid = 0
       AND s.classid NOT IN ('pg_database'::regclass,
                             'pg_auth_members'::regclass)
),
server_wide(role, detail) AS (
    SELECT b.refobjid,
           string_agg(DISTINCT pg_describe_object(b.classid, b.objid, 0), ', ')
      FROM beyond_server b
     GROUP BY b.refobjid
),
-- Relations beyond an application user's (in the system schemas; views
-- reading with a privileged owner's rights: privileged_relation.sql), read
-- once and hashed: the groups are granted every application table, which
-- would otherwise be looked up one by one.
privileged_relations(oid) AS MATERIALIZED (
    SELECT c.oid FROM pg_class c
     WHERE c.relnamespace IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
        OR ({privileged_relation})
),
-- Privileges beyond an application user's, in this database (PUBLIC's own
-- grants are not recorded per role, so none of these is everyone's):
-- grants on system catalogs and functions (pg_authid,
-- pg_read_binary_file, lo_import...), on foreign servers, on functions that
-- run with a privileged owner's rights and on views reading with them;
-- and owning schema `public`, which lets one drop anything in it. One row
-- each in beyond_here (group_beyond.sql reads them so), by role in
-- system_grants.
beyond_here AS (
    SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.deptype
      FROM deps s
     WHERE s.dbid = (SELECT oid FROM facts)
       AND NOT {large_object_grant}
       AND ((s.deptype = 'a'
             AND (s.classid IN ('pg_foreign_server'::regclass,
                                'pg_foreign_data_wrapper'::regclass)
                  OR (s.classid = 'pg_class'::regclass
                      AND s.objid IN (SELECT oid FROM privileged_relations))
                  OR (s.classid = 'pg_namespace'::regclass
                      AND s.objid IN ('pg_catalog'::regnamespace,
                                      'information_schema'::regnamespace))
                  OR (s.classid = 'pg_proc'::regclass AND EXISTS (
                        SELECT 1 FROM pg_proc p
                         WHERE p.oid = s.objid
                           AND (p.pronamespace IN ('pg_catalog'::regnamespace,
                                                   'information_schema'::regnamespace)
                                OR (p.prosecdef
                                    AND EXISTS (SELECT 1 FROM pg_roles r
                                                 WHERE r.oid = p.proowner
                                                   AND {privileged_definer})))))))
            OR (s.deptype = 'o' AND s.classid = 'pg_namespace'::regclass
                AND s.objid = (SELECT oid FROM pg_namespace WHERE nspname = 'public')))
),
system_grants(role, detail) AS (
    SELECT b.refobjid,
           string_agg(DISTINCT pg_describe_object(b.classid, b.objid, b.objsubid), ', ')
      FROM beyond_here b
     GROUP BY b.refobjid
),
-- Why a role is more than an application user: its own reasons (scope's
-- roles), and those it gives its members (every role above them, judged
-- once however many members it has).
own_kinds(role, kind, via, detail) AS (
    SELECT a.oid, k.kind, a.rolname::text,
           CASE WHEN k.kind = 'server' THEN sw.detail
                WHEN k.kind = 'system' THEN sg.detail
                WHEN k.kind = 'no_admin' THEN facts.admin
                ELSE f.detail END
      -- (Joined on scope's oid, not the role's row: the planner then
      -- hashes the three once instead of once a role.)
      FROM scope s
      LEFT JOIN footprints f ON f.role = s.oid
      LEFT JOIN server_wide sw ON sw.role = s.oid
      LEFT JOIN system_grants sg ON sg.role = s.oid
      CROSS JOIN LATERAL (SELECT * FROM pg_roles a WHERE a.oid = s.oid OFFSET 0) a
      CROSS JOIN facts
      CROSS JOIN LATERAL (SELECT CASE
              WHEN a.rolcreaterole THEN 'createrole'
              WHEN a.rolcreatedb THEN 'createdb'
              WHEN a.rolreplication THEN 'replication'
              WHEN a.rolbypassrls THEN 'bypassrls'
              WHEN sw.detail IS NOT NULL THEN 'server'
              WHEN sg.detail IS NOT NULL THEN 'system'
              WHEN f.detail IS NOT NULL THEN 'elsewhere'
              -- Last, so every more specific reason wins.
              WHEN facts.version_num >= 160000 AND NOT facts.admin_super
                   AND NOT pg_has_role(current_user, a.oid, 'USAGE WITH ADMIN OPTION')
                  THEN 'no_admin' END AS kind) k
     WHERE k.kind IS NOT NULL
),
given_kinds(via_oid, kind, via, detail) AS (
    SELECT a.oid, k.kind, a.rolname::text,
           CASE WHEN k.kind = 'member_server' THEN sw.detail
                WHEN k.kind = 'member_system' THEN sg.detail
                ELSE f.detail END
      FROM (SELECT DISTINCT ancestor FROM above) v
      LEFT JOIN footprints f ON f.role = v.ancestor
      LEFT JOIN server_wide sw ON sw.role = v.ancestor
      LEFT JOIN system_grants sg ON sg.role = v.ancestor
      CROSS JOIN LATERAL (SELECT * FROM pg_roles a WHERE a.oid = v.ancestor OFFSET 0) a
      CROSS JOIN facts
      CROSS JOIN LATERAL (SELECT CASE
          WHEN a.rolsuper THEN 'superuser'
          WHEN a.rolname ~ '^pg_' THEN 'predefined'
          WHEN a.rolname = current_user THEN 'admin'
          WHEN a.rolname = facts.protected THEN 'protected'
          WHEN EXISTS (SELECT 1 FROM pg_database o WHERE o.datdba = a.oid)
              THEN 'owner'
          WHEN a.rolcreaterole OR a.rolcreatedb OR a.rolreplication OR a.rolbypassrls
              THEN 'privileged'
          WHEN sw.detail IS NOT NULL THEN 'member_server'
          WHEN sg.detail IS NOT NULL THEN 'member_system'
          WHEN a.rolname LIKE 'pgusers-readonly-%'
               AND a.rolname <> facts.readers
              THEN 'reader_elsewhere'
          -- Another database's writers group, likewise (one left by a
          -- database renamed or gone does not count).
          WHEN a.rolname LIKE 'pgusers-writers-%' AND a.rolname <> facts.writers
               AND EXISTS (SELECT 1 FROM pg_database o
                            WHERE a.rolname IN ('pgusers-writers-' || o.datname,
                                                'pgusers-writers-' || o.oid::text))
              THEN 'writer_elsewhere'
          -- Another database's mark: pgusers made it for that one. A mark
          -- left by a database renamed or gone does not count.
          WHEN a.rolname LIKE 'pgusers-users-%' AND a.rolname <> facts.mark
               AND EXISTS (SELECT 1 FROM pg_database o
                            WHERE a.rolname IN ('pgusers-users-' || o.datname,
                                                'pgusers-users-' || o.oid::text))
              THEN 'marked_elsewhere'
          WHEN f.detail IS NOT NULL THEN 'member_elsewhere' END AS kind) k
     WHERE k.kind IS NOT NULL
),
restrictions(role, kind, via, detail) AS (
    SELECT DISTINCT ON (x.role) x.role, x.kind, x.via, x.detail
      FROM (SELECT role, kind, via, detail FROM own_kinds
            UNION ALL
            SELECT a.member, g.kind, g.via, g.detail
              FROM ancestry a JOIN given_kinds g ON g.via_oid = a.ancestor) x
     ORDER BY x.role, array_position(
         ARRAY['createrole', 'createdb', 'replication', 'bypassrls', 'superuser', 'predefined', 'admin',
               'protected', 'owner', 'privileged', 'server', 'member_server', 'system',
               'member_system', 'reader_elsewhere', 'writer_elsewhere', 'elsewhere',
               'member_elsewhere',
               'marked_elsewhere',
               'no_admin'],
         x.kind)
)
