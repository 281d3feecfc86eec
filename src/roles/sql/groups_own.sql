-- What pgusers' groups own in this database (or server-wide), which they
-- never should: every member of a group may use what the group owns as its
-- owner (drop it, change it, grant it on), and before PostgreSQL 16 every
-- membership allows SET ROLE to the group to make more. Returns the group and
-- the objects, described. $1 is the protected user. Fills: database_facts.sql.
WITH facts AS ({database_facts})
SELECT pg_get_userbyid(s.refobjid)::text,
       string_agg(pg_describe_object(s.classid, s.objid, s.objsubid), ', '
                  ORDER BY pg_describe_object(s.classid, s.objid, s.objsubid))
  FROM pg_shdepend s, facts
 WHERE s.deptype = 'o' AND s.refclassid = 'pg_authid'::regclass
   AND s.refobjid IN (SELECT oid FROM pg_roles WHERE rolname IN (facts.writers, facts.readers))
   AND s.dbid IN (facts.oid, 0)
 GROUP BY s.refobjid
 ORDER BY 1
