-- The tables, views, foreign tables and sequences in public now, as
-- regclass text, each with whether it is a sequence.
SELECT c.oid::regclass::text, c.relkind = 'S' FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
 ORDER BY c.oid
