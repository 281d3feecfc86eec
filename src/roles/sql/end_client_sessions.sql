-- Ends the client sessions of role $1 (an oid) but this one: the processes
-- and whether each was told to end. The call is in the select list, which
-- runs only for the rows kept: in WHERE, PostgreSQL may call it before the
-- other conditions, on any session of the server. Fills: client_session.sql.
SELECT a.pid, pg_terminate_backend(a.pid) FROM pg_stat_activity a
 WHERE a.usesysid = $1 AND a.pid <> pg_backend_pid() AND {client_session}
