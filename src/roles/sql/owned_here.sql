-- Whether pg_shdepend row s says a role owns an object of this database.
s.refclassid = 'pg_authid'::regclass AND s.deptype = 'o'
AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
