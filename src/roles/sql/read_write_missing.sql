-- For every read-write user pgusers made (carrying its mark, the role $2, and
-- not a member of the readers group, $3), what it lacks of what pgusers gives
-- one: the database's privileges, public's, and its privileges on the
-- protected user's ($1) tables and sequences (what pgusers' grants keep up;
-- another user's tables are that user's to share). A role pgusers did not make
-- is never asked to hold more. One row per lack: the user, what (database,
-- schema, table, sequence) and the relation.
--
-- Each ACL holds an item per read-write user, and has_*_privilege reads the
-- whole ACL for each user: thousands of users times thousands of items. So a
-- privilege granted to the user itself or to PUBLIC, read once per ACL
-- (unnested first: aclexplode reads its whole array again for every item it
-- returns), settles it; has_*_privilege (which also counts PUBLIC's grants and
-- the user's memberships) judges only the rest. The CASEs keep that order:
-- PostgreSQL may reorder ANDed conditions.
WITH protected AS (SELECT oid FROM pg_roles WHERE rolname = $1),
     marked AS (
       SELECT m.member AS oid FROM pg_auth_members m
        WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $2)
          AND NOT EXISTS (SELECT 1 FROM pg_auth_members g
                           WHERE g.member = m.member
                             AND g.roleid = (SELECT oid FROM pg_roles WHERE rolname = $3))),
     database_items AS (
       SELECT a.grantee, a.privilege_type
         FROM pg_database d CROSS JOIN LATERAL unnest(d.datacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.datname = current_database()),
     database_granted AS (
       SELECT x.grantee AS oid
         FROM database_items x
        WHERE x.grantee <> 0
        GROUP BY x.grantee
       HAVING NOT EXISTS (
                SELECT 1 FROM unnest(ARRAY['CREATE', 'CONNECT', 'TEMPORARY']) need(p)
                 WHERE p <> ALL (array_agg(x.privilege_type))
                   AND p NOT IN (SELECT privilege_type FROM database_items
                                  WHERE grantee = 0))),
     schema_items AS (
       SELECT a.grantee, a.privilege_type
         FROM pg_namespace n CROSS JOIN LATERAL unnest(n.nspacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE n.nspname = 'public'),
     schema_granted AS (
       SELECT x.grantee AS oid
         FROM schema_items x
        WHERE x.grantee <> 0
        GROUP BY x.grantee
       HAVING NOT EXISTS (
                SELECT 1 FROM unnest(ARRAY['USAGE', 'CREATE']) need(p)
                 WHERE p <> ALL (array_agg(x.privilege_type))
                   AND p NOT IN (SELECT privilege_type FROM schema_items
                                  WHERE grantee = 0))),
     relations AS (
       SELECT c.oid, c.relkind, c.relacl
         FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relkind IN ('r', 'p', 'S')
          AND c.relowner = (SELECT oid FROM protected)),
     relation_granted AS (
       SELECT c.oid AS relation, a.grantee AS oid
         FROM relations c CROSS JOIN LATERAL unnest(c.relacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                   'USAGE')
        GROUP BY c.oid, c.relkind, a.grantee
       HAVING count(DISTINCT a.privilege_type) FILTER (
                WHERE CASE WHEN c.relkind = 'S'
                           THEN a.privilege_type IN ('USAGE', 'SELECT', 'UPDATE')
                           ELSE a.privilege_type <> 'USAGE' END)
              = CASE WHEN c.relkind = 'S' THEN 3 ELSE 5 END)
SELECT r.rolname::text, w.what, w.relation
  FROM marked m JOIN pg_roles r ON r.oid = m.oid
 CROSS JOIN LATERAL (
   SELECT 0 AS o, 'database' AS what, NULL::text AS relation
    WHERE CASE WHEN m.oid IN (SELECT oid FROM database_granted) THEN false
               ELSE NOT (has_database_privilege(m.oid, current_database(), 'CREATE')
                         AND has_database_privilege(m.oid, current_database(), 'CONNECT')
                         AND has_database_privilege(m.oid, current_database(), 'TEMPORARY'))
          END
   UNION ALL
   SELECT 1, 'schema', NULL
    WHERE CASE WHEN m.oid IN (SELECT oid FROM schema_granted) THEN false
               ELSE NOT (has_schema_privilege(m.oid, 'public', 'USAGE')
                         AND has_schema_privilege(m.oid, 'public', 'CREATE'))
          END
   UNION ALL
   SELECT 2, CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, c.oid::regclass::text
     FROM relations c
    WHERE CASE WHEN (c.oid, m.oid) IN (SELECT relation, oid FROM relation_granted)
               THEN false
               WHEN c.relkind = 'S'
               THEN NOT (has_sequence_privilege(m.oid, c.oid, 'USAGE')
                         AND has_sequence_privilege(m.oid, c.oid, 'SELECT')
                         AND has_sequence_privilege(m.oid, c.oid, 'UPDATE'))
               ELSE NOT (has_table_privilege(m.oid, c.oid, 'SELECT')
                         AND has_table_privilege(m.oid, c.oid, 'INSERT')
                         AND has_table_privilege(m.oid, c.oid, 'UPDATE')
                         AND has_table_privilege(m.oid, c.oid, 'DELETE')
                         AND has_table_privilege(m.oid, c.oid, 'TRUNCATE')) END
 ) w
 ORDER BY 1, w.o, w.relation
