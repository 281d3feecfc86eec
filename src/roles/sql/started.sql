-- A session's start in pg_stat_activity row a, in microseconds since 1970:
-- whatever the connection's time zone and date style, and told apart from a
-- later session that got the same process id.
(extract(epoch FROM a.backend_start) * 1000000)::int8
