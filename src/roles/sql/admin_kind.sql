-- pgusers' own role: whether it is a superuser, may create databases and may
-- read pg_authid (where password verifiers are kept), and the server's version.
SELECT current_user::text, rolsuper, rolcreatedb,
       has_table_privilege('pg_catalog.pg_authid', 'SELECT'),
       current_setting('server_version_num')::int
  FROM pg_catalog.pg_roles WHERE rolname = current_user
