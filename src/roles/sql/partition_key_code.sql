-- Rows (source, function, review) for the other roles' functions that the
-- partition keys of role $1's partitioned tables make PostgreSQL run (as the
-- owner, with nobody acting): code that cannot change without the data.
-- Fills: reached.sql, others_function.sql (for f), review_statement.sql.
SELECT pg_describe_object('pg_class'::regclass, d.objid, 0) AS source,
       f.oid::regprocedure::text AS function, {review} AS review
  FROM pg_depend d
 CROSS JOIN LATERAL ({reached}) r(fn)
  JOIN pg_proc f ON f.oid = r.fn
 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
   AND d.objid IN (SELECT c.oid FROM pg_class c WHERE c.relowner = $1 AND c.relkind = 'p')
   AND {others}
