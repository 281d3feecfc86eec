-- What role $1 (an oid) owns in this database that read-write users share:
-- plain and partitioned tables and sequences, in any schema but temporary
-- ones, by quoted qualified name, each with whether it is a sequence. Never
-- views, materialized views or foreign tables: they read with their owner's
-- rights.
SELECT c.oid::regclass::text, c.relkind = 'S'
  FROM pg_class c
 WHERE c.relowner = $1
   AND c.relpersistence <> 't'
   AND c.relkind IN ('r', 'p', 'S')
