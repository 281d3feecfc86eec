-- The CTE only_read: whether the readers group (oid readers.oid, from
-- restrictions.sql; NULL when it does not exist) gives its members no more
-- than reading: it is a member of no role; and neither it nor PUBLIC may
-- create in the database or a schema, write a table, a column or a large
-- object, or use or set a sequence (nextval). These are what readers_strays.sql
-- takes back before a change (where it also looks at default privileges,
-- which give nothing until a table is made; the table's ACL is then looked
-- at here).
--
-- Only objects whose ACL is set are asked about: without one, PUBLIC has no
-- such right and the group none at all, unless it owns the object, so the
-- group must own nothing in this database (read from restrictions.sql's
-- readers_deps, so the group's shared dependencies are read once). PUBLIC
-- counts too, because a member of the group could use what PUBLIC may: a
-- read-only user who can write a table is not read-only. The one exception is
-- pg_settings, which PUBLIC may "update": that is SET, not a write.
-- It asks PostgreSQL's own privilege functions, never unpacking an ACL but a
-- large object's: a database where thousands of users were granted CONNECT
-- has an ACL of thousands of items, and aclexplode on it is quadratic.
only_read AS (
  SELECT COALESCE(
      NOT EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = g.oid)
      AND NOT EXISTS (SELECT 1 FROM readers_deps s
                       WHERE s.deptype = 'o' AND s.dbid = facts.oid)
      AND NOT has_database_privilege(g.oid, facts.oid, 'CREATE')
      AND NOT EXISTS (SELECT 1 FROM pg_namespace n
                       WHERE n.nspacl IS NOT NULL
                         AND has_schema_privilege(g.oid, n.oid, 'CREATE'))
      AND NOT EXISTS (SELECT 1 FROM pg_class c
                       WHERE c.relacl IS NOT NULL
                         AND c.oid <> 'pg_catalog.pg_settings'::regclass
                         AND CASE WHEN c.relkind = 'S'
                                  THEN has_sequence_privilege(g.oid, c.oid, 'USAGE, UPDATE')
                                  ELSE has_table_privilege(g.oid, c.oid,
                                         'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                                       OR (facts.version_num >= 170000
                                           AND has_table_privilege(g.oid, c.oid, 'MAINTAIN'))
                             END)
      AND NOT EXISTS (SELECT 1 FROM pg_attribute t
                       WHERE t.attacl IS NOT NULL AND NOT t.attisdropped
                         AND has_column_privilege(g.oid, t.attrelid, t.attnum,
                                                  'INSERT, UPDATE, REFERENCES'))
      AND NOT EXISTS (SELECT 1 FROM pg_largeobject_metadata l
                        CROSS JOIN LATERAL unnest(l.lomacl) i
                        CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                       WHERE a.grantee IN (g.oid, 0) AND a.privilege_type <> 'SELECT'),
      false) AS only_read
    FROM facts CROSS JOIN readers g)
