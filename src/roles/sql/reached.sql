-- The functions pg_depend row d makes PostgreSQL run, as a query of one
-- column: a function; an operator's; an operator class's support functions
-- and operators'; a type's (type_code.sql, which the statement must define).
SELECT d.refobjid WHERE d.refclassid = 'pg_proc'::regclass
UNION ALL
SELECT o.oprcode FROM pg_operator o
 WHERE d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid
UNION ALL
SELECT p.amproc FROM pg_opclass c JOIN pg_amproc p ON p.amprocfamily = c.opcfamily
 WHERE d.refclassid = 'pg_opclass'::regclass AND c.oid = d.refobjid
UNION ALL
SELECT o.oprcode FROM pg_opclass c
  JOIN pg_amop a ON a.amopfamily = c.opcfamily
  JOIN pg_operator o ON o.oid = a.amopopr
 WHERE d.refclassid = 'pg_opclass'::regclass AND c.oid = d.refobjid
UNION ALL
SELECT t.fn FROM type_code t
 WHERE d.refclassid = 'pg_type'::regclass AND t.type = d.refobjid
