-- What role $1 (an oid) owns in this database, as keys (object_key.sql):
-- read when a delete looks at the user's code.
-- Fills: object_key.sql, owned_here.sql.
SELECT {object_key} FROM pg_shdepend s
 WHERE {owned_here}
   AND s.refobjid = $1
