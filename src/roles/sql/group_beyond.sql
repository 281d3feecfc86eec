-- What pgusers' groups are granted beyond an application user's, in this
-- database or server-wide (restrictions.sql's beyond_here and
-- beyond_server: a view reading with a privileged owner's rights, a system
-- function, a tablespace...), which makes every member of the group one
-- pgusers does not manage. What a group owns is groups_own.sql's. Returns
-- the group, the objects, described, and the statements that take the
-- grants back, one a line (an object of a kind REVOKE does not name gets a
-- comment saying so). $1 is the protected user. Fills: database_facts.sql,
-- restrictions.sql.
WITH RECURSIVE facts AS ({database_facts}),
scope(oid) AS (
    SELECT r.oid FROM pg_roles r, facts WHERE r.rolname IN (facts.readers, facts.writers)
),
{restrictions},
granted(role, classid, objid, objsubid) AS (
    SELECT b.refobjid, b.classid, b.objid, b.objsubid FROM beyond_here b WHERE b.deptype = 'a'
    UNION
    SELECT b.refobjid, b.classid, b.objid, 0 FROM beyond_server b WHERE b.deptype = 'a'
)
SELECT pg_get_userbyid(g.role)::text,
       string_agg(DISTINCT pg_describe_object(g.classid, g.objid, g.objsubid), ', '),
       -- (REVOKE on a table takes back its columns' privileges too.)
       string_agg(DISTINCT COALESCE('REVOKE ALL ON ' || k.keyword || ' ' || i.identity
                                    || ' FROM ' || quote_ident(pg_get_userbyid(g.role)) || ';',
                                    '-- (no REVOKE for ' || i.type || ' ' || i.identity || ')'),
                  E'\n')
  FROM granted g
 CROSS JOIN LATERAL pg_identify_object(g.classid, g.objid, 0) i
 CROSS JOIN LATERAL (SELECT CASE i.type
           WHEN 'table' THEN 'TABLE' WHEN 'partitioned table' THEN 'TABLE'
           WHEN 'view' THEN 'TABLE'
           WHEN 'materialized view' THEN 'TABLE' WHEN 'foreign table' THEN 'TABLE'
           WHEN 'sequence' THEN 'SEQUENCE'
           WHEN 'function' THEN 'FUNCTION' WHEN 'aggregate' THEN 'FUNCTION'
           WHEN 'procedure' THEN 'PROCEDURE'
           WHEN 'schema' THEN 'SCHEMA'
           WHEN 'server' THEN 'FOREIGN SERVER'
           WHEN 'foreign-data wrapper' THEN 'FOREIGN DATA WRAPPER'
           WHEN 'tablespace' THEN 'TABLESPACE'
           WHEN 'parameter ACL' THEN 'PARAMETER' END AS keyword) k
 WHERE g.role IN (SELECT oid FROM scope)
   -- (An object dropped meanwhile has no description.)
   AND pg_describe_object(g.classid, g.objid, g.objsubid) IS NOT NULL
 GROUP BY g.role
 ORDER BY 1
