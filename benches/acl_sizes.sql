-- Every access-control list of the current database (and the database's
-- own), by object, with how many items it holds: tables, sequences, views,
-- schemas, the database, functions, types, default privileges. A
-- read-write user's own default privileges are rows of their own; they are
-- keyed by kind and not by user, and the largest of each kind is kept, so
-- that the whole can be compared between ten users and ten thousand.
-- Used by tests/it/roles_scale.rs and benches/users_page.rs.
    SELECT 'relation ' || c.oid::regclass::text, cardinality(c.relacl)
      FROM pg_class c WHERE c.relacl IS NOT NULL
    UNION ALL
    SELECT 'schema ' || quote_ident(n.nspname), cardinality(n.nspacl)
      FROM pg_namespace n WHERE n.nspacl IS NOT NULL
    UNION ALL
    SELECT 'database', cardinality(d.datacl)
      FROM pg_database d WHERE d.datname = current_database()
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text, cardinality(p.proacl)
      FROM pg_proc p WHERE p.proacl IS NOT NULL
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text, cardinality(t.typacl)
      FROM pg_type t WHERE t.typacl IS NOT NULL
    UNION ALL
    SELECT 'default privileges of '
           || CASE WHEN pg_has_role(d.defaclrole, 'pgusers-writers-' || current_database(), 'MEMBER')
                        AND d.defaclrole <> current_user::regrole
                   THEN 'a read-write user'
                   ELSE pg_get_userbyid(d.defaclrole)::text END
           || ' on ' || d.defaclobjtype::text
           || coalesce(' in ' || NULLIF(d.defaclnamespace, 0)::regnamespace::text, ''),
           max(cardinality(d.defaclacl))
      FROM pg_default_acl d
     GROUP BY 1;
