-- What every role owns in this database, as keys (object_key.sql): read
-- when a delete looks at the user's code. What the protected user owns
-- after the delete's REASSIGN OWNED and no role owned then was made in
-- between (made_meanwhile.sql); objects other deletes move meanwhile were
-- owned then, so deletes need not take turns. (Default privileges, which
-- REASSIGN OWNED leaves alone, are not keys.)
-- Fills: object_key.sql, owned_here.sql.
SELECT {object_key} FROM pg_shdepend s
 WHERE {owned_here}
   AND s.classid <> 'pg_default_acl'::regclass
