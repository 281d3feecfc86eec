-- What role $1 (an oid) owns in this database and of the shared objects,
-- described by PostgreSQL: what a delete moves to the protected user.
SELECT pg_describe_object(s.classid, s.objid, s.objsubid)
  FROM pg_shdepend s
 WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 AND s.deptype = 'o'
   AND s.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
   -- Default privileges are pgusers' own bookkeeping: dropped, not moved.
   AND s.classid <> 'pg_default_acl'::regclass
 ORDER BY 1
