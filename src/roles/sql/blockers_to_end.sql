-- The sessions holding locks on what role $1 (an oid) owns here, or on the
-- role, that pgusers may end, by role: login roles that are not superusers,
-- pgusers' own role, the protected user ($2) or a database's owner.
-- Fills: blocking.sql.
SELECT r.rolname::text, array_agg(DISTINCT a.pid)
  FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
 WHERE a.pid IN (SELECT l.pid FROM pg_locks l WHERE {blocking})
   AND a.pid <> pg_backend_pid()
   AND r.rolcanlogin AND NOT r.rolsuper
   AND r.rolname <> current_user AND r.rolname <> $2
   AND NOT EXISTS (SELECT 1 FROM pg_database o WHERE o.datdba = r.oid)
 GROUP BY r.rolname ORDER BY r.rolname
