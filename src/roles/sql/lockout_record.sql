-- Role $1 (an oid), if it exists: its name, connection limit and comment
-- (where a lock-out is recorded), and this database.
SELECT r.rolname::text, r.rolconnlimit, shobj_description(r.oid, 'pg_authid'),
       (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
  FROM pg_roles r WHERE r.oid = $1
