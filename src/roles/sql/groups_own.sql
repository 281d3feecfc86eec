-- What pgusers' groups own in this database (or server-wide), which they
-- never should: every member of a group may use what the group owns as its
-- owner (drop it, change it, grant it on), and before PostgreSQL 16 every
-- membership allows SET ROLE to the group to make more. Returns the group and
-- the objects, described. $1 is the protected user. Fills:
-- database_facts.sql, group_deps.sql.
WITH RECURSIVE facts AS ({database_facts}),
{group_deps}
SELECT pg_get_userbyid(s.refobjid)::text,
       string_agg(pg_describe_object(s.classid, s.objid, s.objsubid), ', '
                  ORDER BY pg_describe_object(s.classid, s.objid, s.objsubid))
  FROM group_deps s
 WHERE s.deptype = 'o'
 GROUP BY s.refobjid
 ORDER BY 1
