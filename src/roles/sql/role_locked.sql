-- Whether pg_locks row l is another session's lock on role $1 (an oid).
l.locktype = 'object' AND l.granted AND l.pid <> pg_backend_pid()
AND l.classid = 'pg_authid'::regclass AND l.objid = $1 AND l.database = 0
