-- Whether role $1 got what the guide gives a read-write user on the database
-- (CREATE, CONNECT, TEMPORARY: a list of privileges asks for any one of them,
-- so each is asked) and on schema public (CREATE, USAGE); who may give those
-- on public (public_owner.sql); the database's owner and whether it is a
-- superuser. Fills: public_owner.sql.
SELECT has_database_privilege($1::text, current_database(), 'CREATE')
       AND has_database_privilege($1::text, current_database(), 'CONNECT')
       AND has_database_privilege($1::text, current_database(), 'TEMPORARY'),
       has_schema_privilege($1::text, 'public', 'CREATE')
       AND has_schema_privilege($1::text, 'public', 'USAGE'),
       {public_owner},
       pg_get_userbyid(d.datdba)::text,
       (SELECT rolsuper FROM pg_roles WHERE oid = d.datdba)
  FROM pg_database d WHERE d.datname = current_database()
