-- The schemas pgusers leaves alone, with their owners: every schema but the
-- application schemas (app_schemas.sql), PostgreSQL's own (every name
-- beginning pg_ is reserved; information_schema) and those an extension made.
-- pgusers' users get nothing in them: a schema both groups may use (someone
-- shared it by hand) is left out, and so is every schema while neither group
-- exists. Also whether the owner is a privileged owner. $1 is the protected
-- user. Fills: database_facts.sql, app_schemas.sql, privileged_owner.sql.
WITH facts AS ({database_facts}),
     {app_schemas}
SELECT n.nspname::text, pg_get_userbyid(n.nspowner)::text, {privileged_owner}
  FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
 WHERE n.oid NOT IN (SELECT oid FROM app_schemas)
   -- Before any user, nobody is left out.
   AND EXISTS (SELECT 1 FROM pg_roles g, facts WHERE g.rolname IN (facts.writers, facts.readers))
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                      AND d.deptype = 'e')
   AND NOT (COALESCE(has_schema_privilege((SELECT oid FROM pg_roles
                                            WHERE rolname = (SELECT writers FROM facts)),
                                          n.oid, 'USAGE'), false)
            AND COALESCE(has_schema_privilege((SELECT oid FROM pg_roles
                                                WHERE rolname = (SELECT readers FROM facts)),
                                              n.oid, 'USAGE'), false))
 ORDER BY 1
