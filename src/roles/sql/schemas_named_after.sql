-- Schemas named after a role other than their owner, which that role may
-- use: such a schema comes first in the role's default search_path ("$user"),
-- so a function, an operator or a table its owner makes there is found
-- before public's by the role's unqualified names, and a function runs with
-- the role's rights. Only login roles (a group has no session of its own);
-- PostgreSQL's own schemas and extensions' aside. Returns the schema and its
-- owner.
SELECT n.nspname::text, pg_get_userbyid(n.nspowner)::text
  FROM pg_namespace n JOIN pg_roles r ON r.rolname = n.nspname
 WHERE r.oid <> n.nspowner AND r.rolcanlogin
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                      AND d.deptype = 'e')
   AND has_schema_privilege(r.oid, n.oid, 'USAGE')
 ORDER BY 1
