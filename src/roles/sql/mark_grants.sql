-- What was granted to the mark role ($1) in this database (or on it), as
-- statements taking it back.
SELECT CASE s.classid
         WHEN 'pg_class'::regclass
           THEN format('REVOKE ALL ON %s %s FROM %I;',
                       CASE (SELECT relkind FROM pg_class WHERE oid = s.objid)
                         WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                       s.objid::regclass, $1::text)
         WHEN 'pg_namespace'::regclass
           THEN format('REVOKE ALL ON SCHEMA %I FROM %I;', s.objid::regnamespace, $1::text)
         WHEN 'pg_proc'::regclass
           THEN format('REVOKE ALL ON ROUTINE %s FROM %I;', s.objid::regprocedure, $1::text)
         WHEN 'pg_type'::regclass
           THEN format('REVOKE ALL ON TYPE %s FROM %I;', s.objid::regtype, $1::text)
         WHEN 'pg_largeobject'::regclass
           THEN format('REVOKE ALL ON LARGE OBJECT %s FROM %I;', s.objid, $1::text)
         WHEN 'pg_database'::regclass
           THEN format('REVOKE ALL ON DATABASE %I FROM %I;', current_database(), $1::text)
         WHEN 'pg_default_acl'::regclass
           THEN (SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE ALL ON %s FROM %I;',
                               pg_get_userbyid(da.defaclrole),
                               CASE WHEN da.defaclnamespace = 0 THEN ''
                                    ELSE ' IN SCHEMA '
                                         || quote_ident(da.defaclnamespace::regnamespace::text) END,
                               CASE da.defaclobjtype WHEN 'r' THEN 'TABLES'
                                    WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                    WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END, $1::text)
                   FROM pg_default_acl da WHERE da.oid = s.objid)
       END
  FROM pg_shdepend s
 WHERE s.refclassid = 'pg_authid'::regclass
   AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
   AND s.deptype = 'a' AND s.objsubid = 0
   AND (s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
            AND s.objid = (SELECT oid FROM pg_database WHERE datname = current_database())))
 ORDER BY 1
