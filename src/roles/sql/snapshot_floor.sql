-- Where a look at what concerns group $1 begins (since.sql): the key of what
-- decides what it finds besides the rows it reads, and the oldest
-- transaction still running for this statement's snapshot (a 64-bit
-- transaction id, text): every transaction before it had ended. The key:
-- the group's oid, the database's and the server's start (so that a floor
-- is never compared with another server's transaction ids: a standby
-- promoted, a restore), the oids of the protected user ($2) and of the
-- mark role ($3: its members' schemas are application schemas), the roles the
-- group is a member of (a right it had through one goes when that
-- membership's row is deleted, leaving no newer row).
WITH g AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = $1) AS oid)
SELECT concat_ws(':', COALESCE(g.oid::text, ''),
                 (SELECT oid FROM pg_database WHERE datname = current_database())::text,
                 pg_postmaster_start_time()::text,
                 COALESCE((SELECT oid FROM pg_roles WHERE rolname = $2)::text, ''),
                 COALESCE((SELECT oid FROM pg_roles WHERE rolname = $3)::text, ''),
                 COALESCE((SELECT string_agg(m.roleid::text, ',' ORDER BY m.roleid)
                             FROM pg_auth_members m WHERE m.member = g.oid), '')),
       pg_snapshot_xmin(pg_current_snapshot())::text
  FROM g
