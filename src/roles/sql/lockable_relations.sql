-- The tables role $1 (an oid) owns in this database that pgusers' role may
-- lock, each alone (a partition of another owner is not its to lock), as
-- regclass text: what a delete's move waits for before its name locks.
SELECT c.oid::regclass::text FROM pg_class c
 WHERE c.relowner = $1 AND c.relkind IN ('r', 'p')
   AND c.relpersistence <> 't'
   AND has_schema_privilege(c.relnamespace, 'USAGE')
   AND has_table_privilege(c.oid, 'UPDATE, DELETE, TRUNCATE')
 ORDER BY c.oid
