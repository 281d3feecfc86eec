-- Whether pg_depend row d makes PostgreSQL run another role's code.
-- Fills: reached.sql, others_function.sql (for f).
EXISTS (SELECT 1 FROM ({reached}) r(fn) JOIN pg_proc f ON f.oid = r.fn
         WHERE {others})
