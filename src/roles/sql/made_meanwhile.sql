-- After REASSIGN OWNED: what role $1 (an oid) still owns here, made after it,
-- and what the protected user ($2) owns now that neither owned when the
-- delete looked at the user's code ($3, keys as object_key.sql makes them),
-- but for the protected user's own new temporary tables, which hold no code.
-- Fills: owned_here.sql, object_key.sql.
SELECT pg_describe_object(s.classid, s.objid, s.objsubid)
  FROM pg_shdepend s
 WHERE {owned_here}
   AND ((s.refobjid = $1
         -- REASSIGN OWNED leaves these to DROP OWNED: no data.
         AND s.classid NOT IN ('pg_default_acl'::regclass,
                               'pg_user_mapping'::regclass))
     OR (s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $2)
         AND NOT {object_key} = ANY($3)
         AND NOT EXISTS (SELECT 1 FROM pg_class c
                          WHERE s.classid = 'pg_class'::regclass AND c.oid = s.objid
                            AND c.relpersistence = 't'
                            AND c.relkind IN ('r', 'S', 'i', 't'))))
 ORDER BY 1
