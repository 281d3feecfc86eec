-- After REASSIGN OWNED: what role $1 (an oid) still owns here, made after it,
-- and what the REASSIGN gave the protected user ($2) that the user did not
-- own when the delete looked at its code ($3, keys as object_key.sql makes
-- them). What the REASSIGN moved carries the transaction id (xmin) of the
-- comment of role $4, written with it: what another delete moved to the
-- protected user meanwhile, or the protected user made, does not. Should that
-- comment not be found, everything the protected user owns that the user did
-- not is named: refused rather than let through.
-- Fills: owned_here.sql, object_key.sql.
SELECT pg_describe_object(s.classid, s.objid, s.objsubid)
  FROM pg_shdepend s
 WHERE {owned_here}
   AND ((s.refobjid = $1
         -- REASSIGN OWNED leaves these to DROP OWNED: no data.
         AND s.classid NOT IN ('pg_default_acl'::regclass,
                               'pg_user_mapping'::regclass))
     OR (s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $2)
         AND s.xmin = COALESCE((SELECT d.xmin FROM pg_shdescription d
                                 WHERE d.classoid = 'pg_authid'::regclass
                                   AND d.objoid = (SELECT oid FROM pg_roles
                                                    WHERE rolname = $4)),
                               s.xmin)
         AND NOT {object_key} = ANY($3)))
 ORDER BY 1
