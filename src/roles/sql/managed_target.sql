-- The role named $2, when pgusers manages it ($1: the protected user
-- configured): its oid, the databases it owns, and why it is not an
-- application user of this database (kind, via, detail), if it is not.
-- No row: pgusers does not list it. Fills: database_facts.sql,
-- restrictions.sql, managed.sql.
WITH RECURSIVE facts AS ({database_facts}),
scope AS (SELECT oid FROM pg_roles WHERE rolname = $2),
{restrictions}
SELECT r.oid, (SELECT string_agg(o.datname, ', ' ORDER BY o.datname)
                 FROM pg_database o WHERE o.datdba = r.oid),
       x.kind, x.via, x.detail
  FROM pg_roles r CROSS JOIN facts
  LEFT JOIN restrictions x ON x.role = r.oid
 WHERE r.rolname = $2 AND {managed}
