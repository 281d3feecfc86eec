-- Where a look at what the readers group (role $1) holds begins: the key of
-- what it looks at (the group's oid, the database's and the server's start,
-- so that a floor is never compared with another server's transaction ids:
-- a standby promoted, a restore), and the oldest transaction still running
-- for this statement's snapshot (a 64-bit transaction id, text): every
-- transaction before it had ended.
SELECT (SELECT oid FROM pg_roles WHERE rolname = $1)::text
       || ':' || (SELECT oid FROM pg_database WHERE datname = current_database())::text
       || ':' || pg_postmaster_start_time()::text,
       pg_snapshot_xmin(pg_current_snapshot())::text
