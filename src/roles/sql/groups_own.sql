-- What pgusers' groups own in this database (or server-wide), which they
-- never should: every member of a group may use what the group owns as its
-- owner (drop it, change it, grant it on), and before PostgreSQL 16 every
-- membership allows SET ROLE to the group to make more. Returns the group,
-- the objects, described, and the statements that empty the default
-- privileges it owns (NULL when it owns none), which REASSIGN OWNED does
-- not move: every grantee's items taken back (the owner's too: an item of
-- its own in a schema's row, or one with grant options), and on a global
-- row the owner's and PUBLIC's built-in ones given back, after which
-- PostgreSQL drops the row. $1 is the protected user. Fills: database_facts.sql,
-- group_deps.sql.
WITH RECURSIVE facts AS ({database_facts}),
{group_deps},
defaults(role, target, step, about, statement) AS (
    SELECT d.defaclrole, t.target || ' ' || t.kind, x.step, x.about, x.statement
      FROM group_deps s
     CROSS JOIN LATERAL (SELECT * FROM pg_default_acl d WHERE d.oid = s.objid OFFSET 0) d
     CROSS JOIN LATERAL (SELECT
           'ALTER DEFAULT PRIVILEGES FOR ROLE ' || quote_ident(pg_get_userbyid(d.defaclrole))
           || COALESCE(' IN SCHEMA ' || quote_ident((SELECT n.nspname FROM pg_namespace n
                                                      WHERE n.oid = d.defaclnamespace)), '')
           AS target,
           CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'
                WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS'
                WHEN 'L' THEN 'LARGE OBJECTS' END AS kind) t
     CROSS JOIN LATERAL (
           SELECT t.target || ' REVOKE ALL ON ' || t.kind || ' FROM '
                  || CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                          ELSE quote_ident(pg_get_userbyid(a.grantee)) END || ';' AS statement,
                  1 AS step, pg_get_userbyid(a.grantee)::text AS about
             FROM (SELECT DISTINCT e.grantee FROM aclexplode(d.defaclacl) e) a
           UNION ALL
           SELECT t.target || ' GRANT ALL ON ' || t.kind || ' TO '
                  || quote_ident(pg_get_userbyid(d.defaclrole)) || ';', 2, ''
            WHERE d.defaclnamespace = 0
           UNION ALL
           SELECT t.target || ' GRANT ' || CASE d.defaclobjtype WHEN 'f' THEN 'EXECUTE'
                                                ELSE 'USAGE' END
                  || ' ON ' || t.kind || ' TO PUBLIC;', 3, ''
            WHERE d.defaclnamespace = 0 AND d.defaclobjtype IN ('f', 'T')) x
     WHERE s.classid = 'pg_default_acl'::regclass AND s.deptype = 'o'
)
SELECT pg_get_userbyid(s.refobjid)::text,
       string_agg(pg_describe_object(s.classid, s.objid, s.objsubid), ', '
                  ORDER BY pg_describe_object(s.classid, s.objid, s.objsubid)),
       (SELECT string_agg(d.statement, E'\n' ORDER BY d.target, d.step, d.about)
          FROM defaults d WHERE d.role = s.refobjid)
  FROM group_deps s
 WHERE s.deptype = 'o'
 GROUP BY s.refobjid
 ORDER BY 1
