-- Whether pg_locks row l is another session's lock on role $1 (an oid) or on a
-- relation it owns in this database. Fills: role_locked.sql.
(({role_locked})
 OR (l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid()
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.relation IN (SELECT c.oid FROM pg_class c WHERE c.relowner = $1)))
