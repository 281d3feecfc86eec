-- How many sessions each of the roles named in $1 has open on the server
-- now, counted as the listing counts them: what the users a kept list shows
-- (its counts as old as it, see kept.rs) are told at each view. Fills:
-- client_session.sql.
SELECT r.rolname::text AS name, count(*) AS n
  FROM pg_stat_activity a
  JOIN pg_roles r ON r.oid = a.usesysid
 WHERE {client_session} AND a.pid <> pg_backend_pid()
   AND r.rolname::text = ANY ($1::text[])
 GROUP BY r.rolname
