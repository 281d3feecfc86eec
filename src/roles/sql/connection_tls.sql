-- The TLS version of this connection as PostgreSQL sees it; NULL when it is
-- not encrypted.
SELECT s.version::text
  FROM (SELECT 1) AS one
  LEFT JOIN pg_catalog.pg_stat_ssl s ON s.pid = pg_catalog.pg_backend_pid()
