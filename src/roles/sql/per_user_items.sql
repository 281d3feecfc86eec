-- Upgrade step 4: what an older pgusers granted each read-write user (a
-- member of the mark role, $1, and not of the readers group, $2) that the
-- read-write group ($3) now holds for all of them (never pgusers' own role,
-- which on 16+ is a member of the roles it made), and the default privileges
-- in public that the protected user's ($4) and the users' own, everywhere,
-- replace: as statements taking it back, each with the role whose right it is
-- (the object's owner; public's since PostgreSQL 15, pg_database_owner, is the
-- database's owner). Only what the group holds too, and never a grant with
-- GRANT OPTION (someone's decision), and only from a user that inherits the
-- group's privileges: nobody loses a right. A default privilege in public is
-- taken back only where its creator has the global one it is replaced by.
-- Each ACL is unnested before aclexplode (see readers_strays.sql).
WITH marked AS (
       SELECT m.member AS oid FROM pg_auth_members m
        WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
          AND m.member <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
          AND NOT EXISTS (SELECT 1 FROM pg_auth_members r
                           WHERE r.member = m.member
                             AND r.roleid = (SELECT oid FROM pg_roles WHERE rolname = $2))),
     writers AS (SELECT oid FROM pg_roles WHERE rolname = $3),
     readers AS (SELECT oid FROM pg_roles WHERE rolname = $2),
     relation_items AS (
       SELECT c.oid, c.relkind, c.relowner, a.grantee, a.privilege_type
         FROM pg_class c CROSS JOIN LATERAL unnest(c.relacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND a.grantee IN (SELECT oid FROM marked) AND a.grantee <> c.relowner
          AND NOT a.is_grantable
          AND pg_has_role(a.grantee, (SELECT oid FROM writers), 'USAGE')
          AND a.privilege_type = ANY (CASE c.relkind
                WHEN 'S' THEN ARRAY['USAGE', 'SELECT', 'UPDATE']
                ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'] END)
          AND CASE c.relkind
                WHEN 'S' THEN has_sequence_privilege((SELECT oid FROM writers), c.oid, a.privilege_type)
                ELSE has_table_privilege((SELECT oid FROM writers), c.oid, a.privilege_type) END),
     database_items AS (
       SELECT d.datname, d.datdba, a.grantee, a.privilege_type
         FROM pg_database d CROSS JOIN LATERAL unnest(d.datacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.datname = current_database()
          AND a.grantee IN (SELECT oid FROM marked) AND NOT a.is_grantable
          AND pg_has_role(a.grantee, (SELECT oid FROM writers), 'USAGE')
          AND has_database_privilege((SELECT oid FROM writers), d.oid, a.privilege_type)),
     schema_items AS (
       SELECT n.nspname, n.nspowner, a.grantee, a.privilege_type
         FROM pg_namespace n CROSS JOIN LATERAL unnest(n.nspacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE n.nspname = 'public'
          AND a.grantee IN (SELECT oid FROM marked) AND NOT a.is_grantable
          AND pg_has_role(a.grantee, (SELECT oid FROM writers), 'USAGE')
          AND has_schema_privilege((SELECT oid FROM writers), n.oid, a.privilege_type)),
     function_items AS (
       SELECT p.oid, p.proowner, a.grantee
         FROM pg_proc p CROSS JOIN LATERAL unnest(p.proacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE p.oid IN ('pg_catalog.lo_create(oid)'::regprocedure,
                        'pg_catalog.lo_creat(integer)'::regprocedure,
                        'pg_catalog.lo_from_bytea(oid, bytea)'::regprocedure)
          AND a.grantee IN (SELECT oid FROM marked) AND NOT a.is_grantable
          AND pg_has_role(a.grantee, (SELECT oid FROM writers), 'USAGE')
          AND has_function_privilege((SELECT oid FROM writers), p.oid, 'EXECUTE')),
     default_items AS (
       SELECT d.defaclrole, d.defaclnamespace, d.defaclobjtype, a.grantee, a.privilege_type
         FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.defaclnamespace = 'public'::regnamespace AND d.defaclobjtype IN ('r', 'S')
          AND (d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $4)
               OR d.defaclrole IN (SELECT oid FROM marked))
          AND ((a.grantee IN (SELECT oid FROM marked)
                AND pg_has_role(a.grantee, (SELECT oid FROM writers), 'USAGE'))
               OR a.grantee = (SELECT oid FROM readers))
          AND a.grantee <> d.defaclrole AND NOT a.is_grantable
          AND a.privilege_type = ANY (CASE d.defaclobjtype
                WHEN 'S' THEN ARRAY['USAGE', 'SELECT', 'UPDATE']
                ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'] END)
          -- The global default it is replaced by exists.
          AND EXISTS (SELECT 1 FROM pg_default_acl g
                       WHERE g.defaclrole = d.defaclrole AND g.defaclnamespace = 0
                         AND g.defaclobjtype = d.defaclobjtype)),
     -- Every item as (owner, the statement's beginning, what it is on,
     -- grantee, privilege).
     items AS (
       SELECT pg_get_userbyid(x.relowner)::text AS owner, '' AS prefix,
              CASE x.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END
              || x.oid::regclass::text AS target, x.grantee, x.privilege_type
         FROM relation_items x
       UNION ALL
       SELECT pg_get_userbyid(x.datdba)::text, '', format('DATABASE %I', x.datname),
              x.grantee, x.privilege_type
         FROM database_items x
       UNION ALL
       SELECT CASE pg_get_userbyid(x.nspowner)
                WHEN 'pg_database_owner'
                THEN (SELECT pg_get_userbyid(datdba) FROM pg_database
                       WHERE datname = current_database())
                ELSE pg_get_userbyid(x.nspowner) END::text,
              '', format('SCHEMA %I', x.nspname), x.grantee, x.privilege_type
         FROM schema_items x
       UNION ALL
       SELECT pg_get_userbyid(x.proowner)::text, '', 'FUNCTION ' || x.oid::regprocedure::text,
              x.grantee, 'EXECUTE'
         FROM function_items x
       UNION ALL
       SELECT pg_get_userbyid(x.defaclrole)::text,
              format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s ',
                     pg_get_userbyid(x.defaclrole), x.defaclnamespace::regnamespace),
              CASE x.defaclobjtype WHEN 'S' THEN 'SEQUENCES' ELSE 'TABLES' END,
              x.grantee, x.privilege_type
         FROM default_items x),
     -- What each grantee loses on each object: a REVOKE names only
     -- privileges every grantee it names loses (a REVOKE of SELECT from
     -- two would take a grant option the other holds too).
     per_grantee AS (
       SELECT owner, prefix, target, grantee,
              string_agg(DISTINCT privilege_type, ', ' ORDER BY privilege_type) AS privileges
         FROM items GROUP BY owner, prefix, target, grantee)
SELECT owner,
       format('%sREVOKE %s ON %s FROM %s;', prefix, privileges, target,
              string_agg(quote_ident(pg_get_userbyid(grantee)), ', '
                         ORDER BY pg_get_userbyid(grantee)))
  FROM per_grantee GROUP BY owner, prefix, target, privileges
 ORDER BY 1, 2
