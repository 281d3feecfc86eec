-- Schemas named after a role other than their owner, which that role may
-- use: such a schema comes first in the role's default search_path ("$user"),
-- so a function, an operator or a table its owner makes there is found
-- before public's by the role's unqualified names, and a function runs with
-- the role's rights. PostgreSQL's own aside. Returns the schema and its
-- owner.
SELECT n.nspname::text, pg_get_userbyid(n.nspowner)::text
  FROM pg_namespace n JOIN pg_roles r ON r.rolname = n.nspname
 WHERE r.oid <> n.nspowner AND n.nspname !~ '^pg_'
   AND has_schema_privilege(r.oid, n.oid, 'USAGE')
 ORDER BY 1
