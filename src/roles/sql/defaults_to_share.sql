-- What the protected user's ($1) default privileges in public give, on
-- tables and on sequences, to each role they let write tables, but the
-- deleted user ($2, an oid) and the readers group ($3): (grantee, on
-- sequences, privilege).
WITH defaults AS (
    SELECT d.defaclobjtype AS kind, a.grantee, a.privilege_type
      FROM pg_default_acl d
     CROSS JOIN LATERAL unnest(d.defaclacl) i
     CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
     WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
       AND d.defaclnamespace = 'public'::regnamespace
       AND d.defaclobjtype IN ('r', 'S')
       AND a.grantee NOT IN (0, d.defaclrole, $2))
SELECT pg_get_userbyid(x.grantee)::text, x.kind = 'S', x.privilege_type
  FROM defaults x
 WHERE x.grantee IN (SELECT grantee FROM defaults
                      WHERE kind = 'r' AND privilege_type = 'INSERT')
   AND pg_get_userbyid(x.grantee) <> $3
   AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = x.grantee)
 ORDER BY 1, 2, 3
