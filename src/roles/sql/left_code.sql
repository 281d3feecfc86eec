-- The code role $1 (an oid) owns in this database (or calls from a trigger)
-- that could act with its owner's rights once the protected user ($2) owns it,
-- and what a delete does about each: (kind, object, target, name, grantees).
-- $3: the privileges that run or attach code on a relation (TRIGGER,
-- REFERENCES, and MAINTAIN on 17+). See code.rs for the kinds.
-- Fills: type_code.sql, reached.sql, others_function.sql (for p and f),
-- review_statement.sql, calls_others_code.sql, partition_key_code.sql,
-- exclusion_code.sql.
WITH RECURSIVE {type_code}
SELECT 'routine', pg_describe_object('pg_proc'::regclass, p.oid, 0),
       p.oid::regprocedure::text, NULL::text, NULL::text[]
  FROM pg_proc p WHERE p.proowner = $1 AND p.prosecdef
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'matview' END,
       pg_describe_object('pg_class'::regclass, c.oid, 0), c.oid::regclass::text, NULL,
       ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL
                                  ELSE pg_get_userbyid(a.grantee)::text END
               FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
              WHERE a.grantee <> c.relowner)
  FROM pg_class c WHERE c.relowner = $1 AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'trigger', pg_describe_object('pg_trigger'::regclass, t.oid, 0),
       t.tgrelid::regclass::text, t.tgname::text, NULL
  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE NOT t.tgisinternal
   AND (p.proowner = $1
        -- or its WHEN condition runs one of the user's functions
        -- (directly, through an operator or a type)
        OR EXISTS (SELECT 1 FROM pg_depend d CROSS JOIN LATERAL ({reached}) r(fn)
                     JOIN pg_proc q ON q.oid = r.fn
                    WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                      AND q.proowner = $1)
        -- or, on one of its tables, another role's code
        OR (EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.tgrelid AND c.relowner = $1)
            AND ({others_p}
                 OR EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                               AND {calls_others_code}))))
UNION ALL
SELECT CASE WHEN c.relkind IN ('r', 'p') THEN 'rule' ELSE 'view_rule' END,
       pg_describe_object('pg_rewrite'::regclass, r.oid, 0),
       r.ev_class::regclass::text, r.rulename::text, NULL
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
 WHERE c.relowner = $1 AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'index', pg_describe_object('pg_class'::regclass, i.indexrelid, 0),
       i.indexrelid::regclass::text, NULL, NULL
  FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
 WHERE t.relowner = $1
   -- A constraint's index cannot be dropped alone (see 'unchangeable'),
   -- and a partition's goes with its parent's.
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
   AND EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                  AND {calls_others_code})
UNION ALL
SELECT 'statistics', pg_describe_object('pg_statistic_ext'::regclass, e.oid, 0),
       quote_ident(n.nspname) || '.' || quote_ident(e.stxname), NULL, NULL
  FROM pg_statistic_ext e
  JOIN pg_class t ON t.oid = e.stxrelid
  JOIN pg_namespace n ON n.oid = e.stxnamespace
 WHERE (t.relowner = $1 OR e.stxowner = $1)
   AND EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_statistic_ext'::regclass AND d.objid = e.oid
                  AND {calls_others_code})
UNION ALL
SELECT 'shadow', pg_describe_object('pg_proc'::regclass, p.oid, 0), NULL, NULL, NULL
  FROM pg_proc p
 WHERE p.proowner = $1 AND p.pronamespace <> 'pg_catalog'::regnamespace
   AND EXISTS (SELECT 1 FROM pg_proc b
                WHERE b.pronamespace = 'pg_catalog'::regnamespace
                  AND b.proname = p.proname)
UNION ALL
SELECT 'shadow', pg_describe_object('pg_operator'::regclass, o.oid, 0), NULL, NULL, NULL
  FROM pg_operator o
 WHERE o.oprowner = $1 AND o.oprnamespace <> 'pg_catalog'::regnamespace
   AND EXISTS (SELECT 1 FROM pg_operator b
                WHERE b.oprnamespace = 'pg_catalog'::regnamespace
                  AND b.oprname = o.oprname)
UNION ALL
SELECT 'expression', pg_describe_object(d.classid, d.objid, 0), NULL, NULL, NULL
  FROM pg_depend d
 WHERE ((d.classid = 'pg_constraint'::regclass AND EXISTS (
            SELECT 1 FROM pg_constraint k
              LEFT JOIN pg_class t ON t.oid = k.conrelid
              LEFT JOIN pg_type y ON y.oid = k.contypid
             WHERE k.oid = d.objid AND (t.relowner = $1 OR y.typowner = $1)))
     OR (d.classid = 'pg_attrdef'::regclass AND EXISTS (
            SELECT 1 FROM pg_attrdef a JOIN pg_class t ON t.oid = a.adrelid
             WHERE a.oid = d.objid AND t.relowner = $1)))
   AND {calls_others_code}
 GROUP BY d.classid, d.objid
UNION ALL
SELECT 'code_grant', pg_describe_object('pg_class'::regclass, c.oid, 0),
       c.oid::regclass::text,
       array_to_string(ARRAY(SELECT DISTINCT a.privilege_type
                               FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                              WHERE a.grantee <> c.relowner
                                AND a.privilege_type = ANY ($3::text[])
                              ORDER BY 1), ', '),
       ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL
                                  ELSE pg_get_userbyid(a.grantee)::text END
               FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
              WHERE a.grantee <> c.relowner AND a.privilege_type = ANY ($3::text[]))
  FROM pg_class c
 WHERE c.relowner = $1 AND c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND EXISTS (SELECT 1 FROM unnest(c.relacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                WHERE a.grantee <> c.relowner AND a.privilege_type = ANY ($3::text[]))
UNION ALL
SELECT 'forced_policies', pg_describe_object('pg_class'::regclass, c.oid, 0),
       c.oid::regclass::text, NULL, NULL
  FROM pg_class c
 WHERE c.relowner = $1 AND c.relforcerowsecurity
   AND EXISTS (SELECT 1 FROM pg_policy y JOIN pg_depend d
                          ON d.classid = 'pg_policy'::regclass AND d.objid = y.oid
                WHERE y.polrelid = c.oid AND {calls_others_code})
UNION ALL
SELECT DISTINCT 'unchangeable', pg_describe_object('pg_type'::regclass, r.rngtypid, 0),
       f.oid::regprocedure::text, {review_f}, NULL::text[]
  FROM pg_range r JOIN pg_type y ON y.oid = r.rngtypid
  JOIN pg_proc f ON f.oid IN (r.rngsubdiff, r.rngcanonical)
 WHERE (y.typowner = $1 OR f.proowner = $1) AND {others_f}
UNION ALL
-- A column of its tables whose values are of such a range type
-- (through domains, arrays and multiranges too): ANALYZE calls it.
SELECT DISTINCT 'unchangeable', pg_describe_object('pg_class'::regclass, a.attrelid, a.attnum),
       f.oid::regprocedure::text, {review_f}, NULL::text[]
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN type_code y ON y.type = a.atttypid AND y.kind = 'range'
  JOIN pg_proc f ON f.oid = y.fn
 WHERE c.relowner = $1 AND a.attnum > 0 AND NOT a.attisdropped AND {others_f}
UNION ALL
SELECT DISTINCT 'unchangeable', x.source, x.function, x.review, NULL::text[]
  FROM ({partition_key} UNION ALL {exclusion}) x
UNION ALL
-- A foreign key's check runs as the referenced table's owner and
-- converts the referencing column with its type's cast.
SELECT DISTINCT 'unchangeable', pg_describe_object('pg_constraint'::regclass, k.oid, 0),
       f.oid::regprocedure::text, {review_f}, NULL::text[]
  FROM pg_constraint k
 CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS cols(fk_att, pk_att)
  JOIN pg_attribute fa ON fa.attrelid = k.conrelid AND fa.attnum = cols.fk_att
  JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = cols.pk_att
  -- Through domains: a cast is from and to base types.
  JOIN pg_cast x
    ON x.castsource IN (SELECT fa.atttypid
                        UNION ALL SELECT member FROM type_chain WHERE type = fa.atttypid)
   AND x.casttarget IN (SELECT pa.atttypid
                        UNION ALL SELECT member FROM type_chain WHERE type = pa.atttypid)
  JOIN pg_proc f ON f.oid = x.castfunc
 WHERE k.contype = 'f'
   AND $1 IN ((SELECT relowner FROM pg_class WHERE oid = k.conrelid),
              (SELECT relowner FROM pg_class WHERE oid = k.confrelid))
   AND {others_f}
 ORDER BY 1, 2
