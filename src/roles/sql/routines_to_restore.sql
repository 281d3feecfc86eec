-- Those of routines $1 (oids) that role $2 (an oid) still owns and that are
-- still SECURITY INVOKER, as regprocedure text: what a lock-out's undo makes
-- run as their owner again.
SELECT p.oid::regprocedure::text FROM pg_proc p
 WHERE p.oid = ANY($1) AND p.proowner = $2 AND NOT p.prosecdef
