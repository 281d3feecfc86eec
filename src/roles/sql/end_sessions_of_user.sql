-- Ends every session of role $1 (an oid) on the server but this one.
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE usesysid = $1 AND pid <> pg_backend_pid()
