-- CTEs (to follow WITH RECURSIVE facts AS (...)) defining readers(oid) and
-- writers(oid), this database's readers and writers groups (NULL while one
-- does not exist), and group_deps(refobjid, classid, objid, objsubid, dbid,
-- deptype): the groups' shared dependencies in this database and
-- server-wide (dbid 0), as pg_shdepend has them, but for two kinds of row
-- no statement reads: the default privileges of other roles that name a
-- group (every read-write user's name both groups), and memberships whose
-- grant a group made (16+ records the grantor; deptype 'a'). Default
-- privileges a group owns are kept.
-- Reading a group's rows by the index on the role would read those default
-- privileges too, three for every read-write user, only to drop them. The
-- rows are read instead by the index on the object (the classes present in
-- each database are found by skipping through it, a lookup each), class by
-- class, each class but the dropped one in full: what is read grows with
-- the objects of this database, never with the users. `::int8` keeps the
-- planner off the index on the role. Default privileges a group owns are
-- looked up by their own index.
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
group_deps AS MATERIALIZED (
    SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
      FROM group_classes c
     CROSS JOIN LATERAL (
           SELECT s.* FROM pg_shdepend s
            WHERE s.dbid = c.dbid AND s.classid = c.classid
              AND s.refclassid = 'pg_authid'::regclass
              AND s.refobjid::int8 IN ((SELECT oid FROM readers)::int8,
                                       (SELECT oid FROM writers)::int8)
           OFFSET 0) s
     WHERE c.classid IS NOT NULL
       AND c.classid <> 'pg_default_acl'::regclass
       AND NOT (c.dbid = 0 AND c.classid = 'pg_auth_members'::regclass)
    UNION ALL
    SELECT d.defaclrole, 'pg_default_acl'::regclass, d.oid, 0, facts.oid, 'o'::"char"
      FROM pg_default_acl d, facts
     WHERE d.defaclrole IN ((SELECT oid FROM readers), (SELECT oid FROM writers))
)
