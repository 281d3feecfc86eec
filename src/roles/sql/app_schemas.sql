-- The CTE app_schemas(oid, nspname, nspowner): the application schemas of
-- this database, which the groups use: public, and every schema owned by the
-- protected user or by a user pgusers made (a member of the mark role), but
-- PostgreSQL's own (pg_catalog, information_schema, pg_toast, temporary
-- schemas: every name beginning pg_ is reserved) and those an extension
-- made. pgusers' own role is no such user (on 16+ it is a member of the
-- roles it made). Reads `facts` (database_facts.sql).
app_schemas AS (
    SELECT n.oid, n.nspname, n.nspowner
      FROM pg_namespace n
     WHERE (n.nspname = 'public'
            OR n.nspowner = (SELECT protected_oid FROM facts)
            OR EXISTS (SELECT 1 FROM pg_auth_members m
                        WHERE m.member = n.nspowner AND m.member <> (SELECT admin_oid FROM facts)
                          AND m.roleid = (SELECT r.oid FROM pg_roles r
                                           WHERE r.rolname = (SELECT mark FROM facts))))
       AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                          AND d.deptype = 'e'))
