-- Role $1's SECURITY DEFINER routines in this database, by oid and as
-- regprocedure text: any role may call them, and a call runs as the role.
SELECT p.oid, p.oid::regprocedure::text FROM pg_proc p
 WHERE p.proowner = $1 AND p.prosecdef ORDER BY 2
