-- Roles owning relations in public (extensions' aside) whose default
-- privileges there, or everywhere, do not grant the readers group ($1) SELECT
-- on tables: what they make next, the read-only users will not read.
SELECT r.rolname::text
  FROM pg_roles r
 WHERE EXISTS (SELECT 1 FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = r.oid
                  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                   WHERE d.classid = 'pg_class'::regclass
                                     AND d.objid = c.oid AND d.deptype = 'e'))
   AND NOT EXISTS (
         SELECT 1 FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
          WHERE d.defaclrole = r.oid AND d.defaclobjtype = 'r'
            AND d.defaclnamespace IN (0, 'public'::regnamespace)
            AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)
            AND a.privilege_type = 'SELECT')
 ORDER BY 1
