-- Whether pg_stat_activity row a is a session of a user: a client backend, or
-- a row whose type is hidden from pgusers' role (a client's, since the other
-- kinds run as no user or as a superuser). A parallel worker acts for its
-- leader's session and is not counted.
(a.backend_type = 'client backend' OR a.backend_type IS NULL)
