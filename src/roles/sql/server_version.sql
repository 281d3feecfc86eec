-- The server's version, as PostgreSQL reports it.
SELECT current_setting('server_version')
