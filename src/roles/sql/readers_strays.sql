-- What the readers group (role $1) holds in this database beyond what
-- pgusers gives it, as statements taking it back: a membership; a privilege
-- but SELECT on a table or sequence, or on one of its columns; any on a
-- schema but USAGE; any on the database but CONNECT and TEMPORARY (as PUBLIC
-- has); default privileges but SELECT on tables, sequences and (18+) large
-- objects and USAGE on schemas; a large object's but SELECT.
--
-- With $2, the floor of a look that found nothing (since.sql): only rows
-- written since are looked at, so what that look saw stays as it was.
-- Without it, every row. Fills: since.sql.
--
-- Each ACL is unnested before aclexplode, one item at a time: aclexplode
-- reads its whole array again for every item it returns, so on a database
-- ACL of thousands of users it is quadratic (seconds).
WITH readers AS (SELECT oid FROM pg_roles WHERE rolname = $1),
     given AS (SELECT $2::text AS floor),
     {since}
SELECT format('REVOKE %I FROM %I;', g.rolname, $1::text)
  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
 WHERE m.member = (SELECT oid FROM readers) AND ((SELECT everything FROM since) OR age(m.xmin) <= (SELECT age FROM since))
UNION ALL
SELECT format('REVOKE %s ON %s %s FROM %I;', a.privilege_type,
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              c.oid::regclass, $1::text)
  FROM pg_class c CROSS JOIN LATERAL unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
 WHERE ((SELECT everything FROM since) OR age(c.xmin) <= (SELECT age FROM since))
   AND a.grantee = (SELECT oid FROM readers) AND a.privilege_type <> 'SELECT'
UNION ALL
SELECT format('REVOKE %s (%I) ON TABLE %s FROM %I;', a.privilege_type, t.attname,
              t.attrelid::regclass, $1::text)
  FROM pg_attribute t CROSS JOIN LATERAL unnest(t.attacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
 WHERE t.attacl IS NOT NULL AND ((SELECT everything FROM since) OR age(t.xmin) <= (SELECT age FROM since))
   AND a.grantee = (SELECT oid FROM readers) AND a.privilege_type <> 'SELECT'
UNION ALL
SELECT format('REVOKE %s ON SCHEMA %I FROM %I;', a.privilege_type, n.nspname,
              $1::text)
  FROM pg_namespace n CROSS JOIN LATERAL unnest(n.nspacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
 WHERE ((SELECT everything FROM since) OR age(n.xmin) <= (SELECT age FROM since))
   AND a.grantee = (SELECT oid FROM readers) AND a.privilege_type <> 'USAGE'
UNION ALL
SELECT format('REVOKE %s ON DATABASE %I FROM %I;', a.privilege_type, d.datname,
              $1::text)
  FROM pg_database d CROSS JOIN LATERAL unnest(d.datacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
 WHERE d.datname = current_database() AND ((SELECT everything FROM since) OR age(d.xmin) <= (SELECT age FROM since))
   AND a.grantee = (SELECT oid FROM readers)
   AND a.privilege_type NOT IN ('CONNECT', 'TEMPORARY')
UNION ALL
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE %s ON %s FROM %I;',
              pg_get_userbyid(da.defaclrole),
              CASE WHEN da.defaclnamespace = 0 THEN ''
                   ELSE ' IN SCHEMA ' || da.defaclnamespace::regnamespace::text END,
              a.privilege_type,
              CASE da.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'
                   WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES'
                   WHEN 'L' THEN 'LARGE OBJECTS' ELSE 'SCHEMAS' END,
              $1::text)
  FROM pg_default_acl da CROSS JOIN LATERAL unnest(da.defaclacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
       -- A row holding exactly what pgusers gives the group (each read-write
       -- user has three) holds nothing more: a default privilege's items are
       -- all granted by its role, and an ACL keeps one item per grantee and
       -- grantor. Looked at whole, it is not unpacked.
 WHERE ((SELECT everything FROM since) OR age(da.xmin) <= (SELECT age FROM since))
   AND NOT (da.defaclobjtype IN ('r', 'S', 'n')
            AND da.defaclacl @> ARRAY[makeaclitem(
                  (SELECT oid FROM readers), da.defaclrole,
                  CASE da.defaclobjtype WHEN 'n' THEN 'USAGE' ELSE 'SELECT' END, false)])
   AND a.grantee = (SELECT oid FROM readers)
   AND NOT (da.defaclobjtype IN ('r', 'S', 'L') AND a.privilege_type = 'SELECT')
   AND NOT (da.defaclobjtype = 'n' AND a.privilege_type = 'USAGE')
UNION ALL
SELECT format('REVOKE %s ON LARGE OBJECT %s FROM %I;', a.privilege_type, l.oid,
              $1::text)
  FROM pg_largeobject_metadata l CROSS JOIN LATERAL unnest(l.lomacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
 WHERE ((SELECT everything FROM since) OR age(l.xmin) <= (SELECT age FROM since))
   AND a.grantee = (SELECT oid FROM readers) AND a.privilege_type <> 'SELECT'
 ORDER BY 1
