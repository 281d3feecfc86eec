-- Upgrade step 1: the users whose grants are exactly those of a kind pgusers
-- makes, quoted, to mark. Read-only: a member of the readers group ($2) and of
-- nothing else, granted nothing. Read-write: a member of nothing, with the
-- protected user's ($1) default privileges on tables ($4) and sequences ($5)
-- in public, CREATE on the database and on public, and default privileges
-- letting the readers read what it makes. Never the protected user, a
-- database's owner, pgusers' own role or one marked already ($3: the mark
-- role). One pass over each catalog, whatever the number of users.
WITH protected AS (SELECT oid FROM pg_roles WHERE rolname = $1),
     readers AS (SELECT oid FROM pg_roles WHERE rolname = $2),
     mark AS (SELECT oid FROM pg_roles WHERE rolname = $3),
     defaults AS (
       SELECT d.defaclobjtype AS kind, a.grantee, a.privilege_type
         FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.defaclrole = (SELECT oid FROM protected)
          AND d.defaclnamespace = 'public'::regnamespace),
     writes_tables AS (
       SELECT grantee FROM defaults
        WHERE kind = 'r' AND privilege_type = ANY ($4::text[])
        GROUP BY grantee HAVING count(DISTINCT privilege_type) = cardinality($4::text[])),
     writes_sequences AS (
       SELECT grantee FROM defaults
        WHERE kind = 'S' AND privilege_type = ANY ($5::text[])
        GROUP BY grantee HAVING count(DISTINCT privilege_type) = cardinality($5::text[])),
     readers_follow AS (
       SELECT d.defaclrole AS oid
         FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.defaclnamespace = 'public'::regnamespace AND d.defaclobjtype = 'r'
          AND a.grantee = (SELECT oid FROM readers) AND a.privilege_type = 'SELECT'),
     creates_in_database AS (
       SELECT a.grantee
         FROM pg_database d CROSS JOIN LATERAL unnest(d.datacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE d.datname = current_database() AND a.privilege_type = 'CREATE'),
     creates_in_public AS (
       SELECT a.grantee
         FROM pg_namespace n CROSS JOIN LATERAL unnest(n.nspacl) i
              CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
        WHERE n.nspname = 'public' AND a.privilege_type = 'CREATE')
SELECT quote_ident(r.rolname)
  FROM pg_roles r
 WHERE r.rolcanlogin
   AND NOT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
            OR r.rolbypassrls)
   AND r.rolname <> current_user
   AND r.oid IS DISTINCT FROM (SELECT oid FROM protected)
   AND NOT EXISTS (SELECT 1 FROM pg_database o WHERE o.datdba = r.oid)
   AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                    WHERE m.member = r.oid
                      AND m.roleid NOT IN (SELECT oid FROM readers
                                           UNION ALL SELECT oid FROM mark))
   AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                    WHERE m.member = r.oid AND m.roleid = (SELECT oid FROM mark))
   AND CASE WHEN EXISTS (SELECT 1 FROM pg_auth_members m
                          WHERE m.member = r.oid
                            AND m.roleid = (SELECT oid FROM readers))
            THEN NOT EXISTS (SELECT 1 FROM pg_shdepend s
                              WHERE s.refclassid = 'pg_authid'::regclass
                                AND s.refobjid = r.oid AND s.deptype = 'a')
            ELSE r.oid IN (SELECT grantee FROM writes_tables)
                 AND r.oid IN (SELECT grantee FROM writes_sequences)
                 AND r.oid IN (SELECT oid FROM readers_follow)
                 AND r.oid IN (SELECT grantee FROM creates_in_database)
                 AND r.oid IN (SELECT grantee FROM creates_in_public) END
 ORDER BY 1
