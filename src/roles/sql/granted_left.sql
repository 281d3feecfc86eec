-- What is still granted to role $1 (an oid) in this database (or on it):
-- each object described, its kind as a REVOKE names it, and its name as a
-- statement takes it.
SELECT pg_describe_object(s.classid, s.objid, 0),
       CASE s.classid
         WHEN 'pg_class'::regclass
           THEN CASE (SELECT relkind FROM pg_class WHERE oid = s.objid)
                  WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END
         WHEN 'pg_namespace'::regclass THEN 'SCHEMA'
         WHEN 'pg_proc'::regclass THEN 'ROUTINE'
         WHEN 'pg_database'::regclass THEN 'DATABASE'
         WHEN 'pg_type'::regclass THEN 'TYPE'
         WHEN 'pg_foreign_server'::regclass THEN 'FOREIGN SERVER'
         WHEN 'pg_foreign_data_wrapper'::regclass THEN 'FOREIGN DATA WRAPPER'
         WHEN 'pg_largeobject'::regclass THEN 'LARGE OBJECT'
       END,
       CASE s.classid
         WHEN 'pg_class'::regclass THEN s.objid::regclass::text
         WHEN 'pg_namespace'::regclass THEN quote_ident(s.objid::regnamespace::text)
         WHEN 'pg_proc'::regclass THEN s.objid::regprocedure::text
         WHEN 'pg_database'::regclass
           THEN (SELECT quote_ident(datname) FROM pg_database WHERE oid = s.objid)
         WHEN 'pg_type'::regclass THEN s.objid::regtype::text
         ELSE s.objid::text
       END
  FROM pg_shdepend s
 WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 AND s.deptype = 'a'
   AND (s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
            AND s.objid = (SELECT oid FROM pg_database
                            WHERE datname = current_database())))
 ORDER BY 1
