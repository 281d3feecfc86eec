-- How many sessions each of the roles named in $1 has open on the server
-- now, counted as the listing counts them: what the users a kept list shows
-- (its counts as old as it, see kept.rs) are told at each view. The sessions
-- are counted first, once, and each counted role found by its oid: read as
-- the inner side of a loop over the roles, pg_stat_activity cost 3 ms a view
-- at a hundred roles and twenty sessions. Fills: client_session.sql.
WITH activity AS MATERIALIZED (
    SELECT a.usesysid, count(*) AS n FROM pg_stat_activity a
     WHERE {client_session} AND a.pid <> pg_backend_pid()
     GROUP BY a.usesysid)
SELECT r.rolname::text AS name, activity.n
  FROM pg_roles r JOIN activity ON activity.usesysid = r.oid
 WHERE r.rolname = ANY ($1::name[])
