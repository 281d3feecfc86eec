-- What the groups lack of what pgusers gives them, as statements granting it,
-- each with the role whose right it is to grant (the object's owner; for
-- public since PostgreSQL 15, the database's owner) and what it is about, in
-- words: on the database (the
-- writers CONNECT, CREATE and TEMPORARY, the readers CONNECT); on public (the
-- writers USAGE and CREATE, the readers USAGE); on every other application
-- schema (app_schemas.sql) USAGE for both groups and the protected user; the
-- protected user's default privileges in every schema (global: no IN SCHEMA,
-- so schemas made later are covered), tables and sequences for both groups,
-- and USAGE on the schemas it makes; and, when $2 (pgusers' role is a
-- superuser) and PUBLIC may no longer make large objects, their making for
-- the writers. A group that does not exist lacks nothing here. $1 is the
-- protected user. Fills: database_facts.sql, app_schemas.sql.
WITH facts AS ({database_facts}),
     {app_schemas},
     groups AS (
       SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.writers) AS writers,
              (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS readers,
              facts.writers AS writers_name, facts.readers AS readers_name,
              facts.protected AS protected_name, facts.protected_oid AS protected,
              facts.owner, facts.database
         FROM facts),
     -- The protected user's default privileges everywhere: (kind, grantee,
     -- privilege).
     defaults AS (
       SELECT d.defaclobjtype AS kind, a.grantee, a.privilege_type
         FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.defaclrole = (SELECT protected FROM groups) AND d.defaclnamespace = 0),
     wanted(kind, grantee, grantee_name, privileges, objects) AS (
       SELECT 'r', g.writers, g.writers_name,
              ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'], 'TABLES' FROM groups g
       UNION ALL
       SELECT 'S', g.writers, g.writers_name, ARRAY['USAGE', 'SELECT', 'UPDATE'], 'SEQUENCES'
         FROM groups g
       UNION ALL
       SELECT 'n', g.writers, g.writers_name, ARRAY['USAGE'], 'SCHEMAS' FROM groups g
       UNION ALL
       SELECT 'r', g.readers, g.readers_name, ARRAY['SELECT'], 'TABLES' FROM groups g
       UNION ALL
       SELECT 'S', g.readers, g.readers_name, ARRAY['SELECT'], 'SEQUENCES' FROM groups g
       UNION ALL
       SELECT 'n', g.readers, g.readers_name, ARRAY['USAGE'], 'SCHEMAS' FROM groups g)
SELECT format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO %I;', g.database, g.writers_name),
       g.owner, format('the database %s', g.database)
  FROM groups g
 WHERE g.writers IS NOT NULL
   AND NOT (has_database_privilege(g.writers, g.database, 'CONNECT')
            AND has_database_privilege(g.writers, g.database, 'CREATE')
            AND has_database_privilege(g.writers, g.database, 'TEMPORARY'))
UNION ALL
SELECT format('GRANT CONNECT ON DATABASE %I TO %I;', g.database, g.readers_name), g.owner,
       format('the database %s', g.database)
  FROM groups g
 WHERE g.readers IS NOT NULL AND NOT has_database_privilege(g.readers, g.database, 'CONNECT')
UNION ALL
SELECT format('GRANT USAGE%s ON SCHEMA %I TO %s;',
              CASE WHEN s.nspname = 'public' THEN ', CREATE' ELSE '' END, s.nspname,
              string_agg(quote_ident(w.name), ', ' ORDER BY w.o)),
       CASE WHEN pg_get_userbyid(s.nspowner) = 'pg_database_owner'
            THEN (SELECT owner FROM groups) ELSE pg_get_userbyid(s.nspowner)::text END,
       format('schema %s', s.nspname)
  FROM app_schemas s
 CROSS JOIN groups g
 CROSS JOIN LATERAL (VALUES (1, g.writers, g.writers_name), (2, g.readers, g.readers_name),
                            (3, g.protected, g.protected_name)) w(o, oid, name)
 WHERE w.oid IS NOT NULL AND w.oid <> s.nspowner
   -- public: the protected user keeps what it has; the groups get theirs.
   AND NOT (s.nspname = 'public' AND w.o = 3)
   AND NOT (has_schema_privilege(w.oid, s.oid, 'USAGE')
            AND (s.nspname <> 'public' OR w.o <> 1
                 OR has_schema_privilege(w.oid, s.oid, 'CREATE')))
 GROUP BY s.oid, s.nspname, s.nspowner
UNION ALL
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT %s ON %s TO %I;',
              g.protected_name, array_to_string(w.privileges, ', '), w.objects, w.grantee_name),
       g.protected_name, format('what "%s" makes from now on', g.protected_name)
  FROM wanted w CROSS JOIN groups g
 WHERE w.grantee IS NOT NULL
   AND EXISTS (SELECT 1 FROM unnest(w.privileges) p
                WHERE NOT EXISTS (SELECT 1 FROM defaults d
                                   WHERE d.kind = w.kind AND d.grantee = w.grantee
                                     AND d.privilege_type = p))
UNION ALL
SELECT format('GRANT EXECUTE ON FUNCTION %s TO %I;',
              'pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), '
              'pg_catalog.lo_from_bytea(oid, bytea)', g.writers_name),
       (SELECT pg_get_userbyid(p.proowner)::text FROM pg_proc p
         WHERE p.oid = 'pg_catalog.lo_create(oid)'::regprocedure), 'making large objects'
  FROM groups g
 WHERE $2 AND g.writers IS NOT NULL
   AND NOT (has_function_privilege(g.writers, 'pg_catalog.lo_create(oid)', 'EXECUTE')
            AND has_function_privilege(g.writers, 'pg_catalog.lo_creat(integer)', 'EXECUTE')
            AND has_function_privilege(g.writers, 'pg_catalog.lo_from_bytea(oid, bytea)',
                                       'EXECUTE'))
