-- Who holds locks on what role $1 (an oid) owns in this database, or on the
-- role: each session's role and process. Fills: blocking.sql.
SELECT format('%s (process %s)', quote_ident(a.usename), a.pid)
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE {blocking}
 GROUP BY a.usename, a.pid ORDER BY a.usename, a.pid
