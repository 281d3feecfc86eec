-- The sessions of role $1 on the server but this one, oldest first: process,
-- database, client address ('local' over a Unix socket), application name,
-- state and start in UTC. What pgusers' role may not see is NULL.
-- Fills: client_session.sql.
SELECT a.pid, a.datname::text,
       CASE WHEN a.backend_start IS NULL THEN NULL
            WHEN a.client_port = -1 THEN 'local'
            ELSE host(a.client_addr) END,
       COALESCE(a.application_name, ''),
       a.state,
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
  FROM pg_stat_activity a
 WHERE a.pid <> pg_backend_pid() AND {client_session}
   AND a.usesysid = (SELECT oid FROM pg_roles WHERE rolname = $1)
 ORDER BY a.backend_start, a.pid
