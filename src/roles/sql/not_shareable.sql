-- The tables and sequences in public on which pgusers' role may not give
-- what a new user gets, as (TABLE or SEQUENCE, regclass text), but those the
-- readers group ($2) may already read when the new user is read-only ($1).
-- sequences_given and tables_given, built in sql.rs from the privileges a
-- new user gets, say whether pgusers' role may give each of them on c.
SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
       c.oid::regclass::text
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND NOT CASE c.relkind WHEN 'S' THEN {sequences_given} ELSE {tables_given} END
   -- The readers may already read it: nothing to give.
   AND NOT ($1 AND COALESCE((SELECT has_table_privilege(r.oid, c.oid, 'SELECT')
                               FROM pg_roles r WHERE r.rolname = $2), false))
 ORDER BY 2
