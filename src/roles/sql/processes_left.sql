-- How many of the server processes $1 (pids) are still there.
SELECT count(*) FROM pg_stat_activity WHERE pid = ANY ($1)
