-- What the marked users (members of the mark role, $1) hold that runs or
-- attaches code on objects they do not own ($2: the privileges), as
-- statements taking it back: (owner, statement), where the owner is the role
-- whose privileges a revoke needs. Each ACL is unnested before aclexplode
-- (see readers_strays.sql).
WITH marked AS (SELECT m.member AS oid FROM pg_auth_members m
                 WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)),
     relation_items AS (
       SELECT c.oid, c.relowner, a.grantee, a.privilege_type
         FROM pg_class c CROSS JOIN LATERAL unnest(c.relacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND a.privilege_type = ANY ($2::text[])
          AND a.grantee IN (SELECT oid FROM marked) AND a.grantee <> c.relowner),
     column_items AS (
       SELECT c.oid, c.relowner, t.attname, a.grantee
         FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid
              CROSS JOIN LATERAL unnest(t.attacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE t.attacl IS NOT NULL AND a.privilege_type = 'REFERENCES'
          AND a.privilege_type = ANY ($2::text[])
          AND a.grantee IN (SELECT oid FROM marked) AND a.grantee <> c.relowner),
     default_items AS (
       SELECT d.oid, d.defaclrole, d.defaclnamespace, a.grantee, a.privilege_type
         FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.defaclobjtype = 'r' AND a.privilege_type = ANY ($2::text[])
          AND a.grantee IN (SELECT oid FROM marked) AND a.grantee <> d.defaclrole)
SELECT pg_get_userbyid(x.relowner)::text,
       format('REVOKE %s ON TABLE %s FROM %s;',
              string_agg(DISTINCT x.privilege_type, ', '), x.oid::regclass,
              string_agg(DISTINCT quote_ident(pg_get_userbyid(x.grantee)), ', '))
  FROM relation_items x GROUP BY x.oid, x.relowner
UNION ALL
SELECT pg_get_userbyid(x.relowner)::text,
       format('REVOKE REFERENCES (%I) ON TABLE %s FROM %s;', x.attname, x.oid::regclass,
              string_agg(DISTINCT quote_ident(pg_get_userbyid(x.grantee)), ', '))
  FROM column_items x GROUP BY x.oid, x.relowner, x.attname
UNION ALL
SELECT pg_get_userbyid(x.defaclrole)::text,
       format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE %s ON TABLES FROM %s;',
              pg_get_userbyid(x.defaclrole),
              CASE WHEN x.defaclnamespace = 0 THEN ''
                   ELSE ' IN SCHEMA ' || quote_ident(x.defaclnamespace::regnamespace::text) END,
              string_agg(DISTINCT x.privilege_type, ', '),
              string_agg(DISTINCT quote_ident(pg_get_userbyid(x.grantee)), ', '))
  FROM default_items x GROUP BY x.oid, x.defaclrole, x.defaclnamespace
ORDER BY 1, 2
