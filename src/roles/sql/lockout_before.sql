-- What a delete's lock-out of role $1 (an oid) records: its connection limit
-- and comment, this database, and the delete's session (process, role,
-- start). Fills: started.sql.
SELECT r.rolconnlimit, d.oid, shobj_description(r.oid, 'pg_authid'),
       a.pid, a.usesysid, {started}
  FROM pg_roles r, pg_database d, pg_stat_activity a
 WHERE r.oid = $1 AND d.datname = current_database()
   AND a.pid = pg_backend_pid()
