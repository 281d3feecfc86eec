-- How many sessions role $1 (an oid) has open on the server.
SELECT count(*) FROM pg_stat_activity WHERE usesysid = $1
