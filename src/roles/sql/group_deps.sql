-- CTEs (to follow WITH RECURSIVE facts AS (...)) defining readers(oid) and
-- writers(oid), this database's readers and writers groups (NULL while one
-- does not exist), and group_deps(refobjid, classid, objid, objsubid, dbid,
-- deptype): the groups' shared dependencies in this database and
-- server-wide (dbid 0), as pg_shdepend has them, but for two kinds of row
-- no statement reads: default privileges that name a group (every
-- read-write user's name both groups), and memberships whose grant a group
-- made (16+ records the grantor; deptype 'a'). Default privileges a group
-- owns are added back, looked up by their own index.
-- Two ways to read the same rows:
-- - by object (the index on the object), class by class (the classes
--   present are found by skipping through it, a lookup each), each class
--   but the default privileges in full, whoever its rows name: this grows
--   with the database's objects and grants, never with the users. `::int8`
--   keeps the planner off the index on the role.
-- - by role (the index on the role), which also reads the default
--   privileges that name the groups, three for every read-write user, only
--   to drop them.
-- By object while those classes hold fewer than 2,000 rows (`probe`, which
-- stops counting there), so that way never reads more than that; by role
-- beyond (millions of large objects, tables granted to thousands of roles).
-- Both give the same rows.
readers AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS oid FROM facts),
writers AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.writers) AS oid FROM facts),
group_classes(dbid, classid) AS (
    SELECT d.dbid, (SELECT min(s.classid) FROM pg_shdepend s WHERE s.dbid = d.dbid)
      FROM (SELECT 0::oid AS dbid UNION ALL SELECT oid FROM facts) d
    UNION ALL
    SELECT c.dbid, (SELECT min(s.classid) FROM pg_shdepend s
                     WHERE s.dbid = c.dbid AND s.classid > c.classid)
      FROM group_classes c
     WHERE c.classid IS NOT NULL
),
-- The classes read by object: every class but the two kinds left out.
object_classes AS (
    SELECT c.dbid, c.classid FROM group_classes c
     WHERE c.classid IS NOT NULL
       AND c.classid <> 'pg_default_acl'::regclass
       AND NOT (c.dbid = 0 AND c.classid = 'pg_auth_members'::regclass)
),
probe AS (
    SELECT COALESCE((SELECT sum(n) FROM object_classes c
                      CROSS JOIN LATERAL (SELECT count(*) AS n FROM (
                          SELECT 1 FROM pg_shdepend s
                           WHERE s.dbid = c.dbid AND s.classid = c.classid
                           LIMIT 2000) x) x), 0) < 2000
           AS by_object
),
group_deps AS MATERIALIZED (
    SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
      FROM object_classes c
     CROSS JOIN LATERAL (
           SELECT s.* FROM pg_shdepend s
            WHERE s.dbid = c.dbid AND s.classid = c.classid
              AND s.refclassid = 'pg_authid'::regclass
              AND s.refobjid::int8 IN ((SELECT oid FROM readers)::int8,
                                       (SELECT oid FROM writers)::int8)
           OFFSET 0) s
     WHERE (SELECT by_object FROM probe)
    UNION ALL
    SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
      FROM pg_shdepend s
     WHERE NOT (SELECT by_object FROM probe)
       AND s.refclassid = 'pg_authid'::regclass
       AND s.refobjid IN ((SELECT oid FROM readers), (SELECT oid FROM writers))
       AND s.dbid IN (0, (SELECT oid FROM facts))
       AND s.classid <> 'pg_default_acl'::regclass
       AND NOT (s.dbid = 0 AND s.classid = 'pg_auth_members'::regclass)
    UNION ALL
    SELECT d.defaclrole, 'pg_default_acl'::regclass, d.oid, 0, facts.oid, 'o'::"char"
      FROM pg_default_acl d, facts
     WHERE d.defaclrole IN ((SELECT oid FROM readers), (SELECT oid FROM writers))
)
