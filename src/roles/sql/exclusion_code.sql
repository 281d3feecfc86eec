-- Rows (source, function, review) for the other roles' functions that the
-- exclusion constraints on role $1's tables make PostgreSQL run (as the
-- owner, on each row written): code that cannot change without the data.
-- Fills: reached.sql, others_function.sql (for f), review_statement.sql.
SELECT (SELECT pg_describe_object('pg_constraint'::regclass, k.oid, 0) FROM pg_constraint k
         WHERE k.conindid = d.objid AND k.contype = 'x') AS source,
       f.oid::regprocedure::text AS function, {review} AS review
  FROM pg_depend d
 CROSS JOIN LATERAL ({reached}) r(fn)
  JOIN pg_proc f ON f.oid = r.fn
 WHERE d.classid = 'pg_class'::regclass
   AND d.objid IN (SELECT k.conindid FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
                    WHERE k.contype = 'x' AND t.relowner = $1)
   AND {others}
