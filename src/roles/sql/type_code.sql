-- CTEs (to follow WITH RECURSIVE) finding the code a value of a type makes
-- PostgreSQL run: code_carriers(oid), the types that may carry code
-- themselves (domains, ranges, multiranges, and composite types, a table's
-- row type too, with a column of such a type, of a composite type, or of an
-- array of one: most tables' columns are base types, or arrays of them such
-- as `name`); type_chain(type, member), the types such a type or an array of
-- one is made of (through base types, elements, ranges, columns, and the
-- types its domains' checks cast to); and type_code(type, fn, kind), the
-- functions they call: a domain's check constraints (kind 'domain': run
-- when a value is checked) and a range's subtype_diff and canonical
-- ('range': run by ANALYZE, with nobody acting).
code_carriers(oid) AS (
    SELECT t.oid FROM pg_type t
     WHERE t.typtype IN ('d', 'r', 'm')
        OR (t.typtype = 'c' AND EXISTS (
              SELECT 1 FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid
               WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
                 AND (y.typtype IN ('d', 'r', 'm', 'c')
                      OR (y.typelem <> 0 AND EXISTS (
                            SELECT 1 FROM pg_type e
                             WHERE e.oid = y.typelem AND e.typtype IN ('d', 'r', 'm', 'c'))))))
),
type_chain(type, member) AS (
    -- Those, and arrays of them.
    SELECT k.oid, k.oid FROM code_carriers k
    UNION
    SELECT t.oid, t.oid FROM pg_type t
     WHERE t.typelem <> 0 AND t.typelem IN (SELECT oid FROM code_carriers)
    UNION
    SELECT c.type, n.next
      FROM type_chain c
     CROSS JOIN LATERAL (
           SELECT t.typbasetype AS next FROM pg_type t
            WHERE t.oid = c.member AND t.typtype = 'd'
           UNION ALL
           SELECT t.typelem FROM pg_type t WHERE t.oid = c.member AND t.typelem <> 0
           UNION ALL
           SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = c.member
           UNION ALL
           SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = c.member
           UNION ALL
           -- a domain whose check casts to another type runs its code too
           -- (from the type, so that only a domain's constraints are read)
           SELECT d.refobjid FROM pg_type t
             JOIN pg_constraint k ON k.contypid = t.oid
             JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
            WHERE t.oid = c.member AND t.typtype = 'd' AND d.refclassid = 'pg_type'::regclass
           UNION ALL
           -- a composite type's columns
           SELECT a.atttypid FROM pg_type t
             JOIN pg_attribute a ON a.attrelid = t.typrelid
            WHERE t.oid = c.member AND t.typtype = 'c' AND a.attnum > 0
              AND NOT a.attisdropped) n
),
type_code(type, fn, kind) AS (
    SELECT c.type, CASE d.refclassid WHEN 'pg_proc'::regclass THEN d.refobjid
                     ELSE (SELECT o.oprcode FROM pg_operator o WHERE o.oid = d.refobjid) END,
           'domain'
      FROM type_chain c
      JOIN pg_constraint k ON k.contypid = c.member
      JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
     WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
    UNION ALL
    SELECT c.type, f.fn, 'range'
      FROM type_chain c
      JOIN pg_range r ON r.rngtypid = c.member
     CROSS JOIN LATERAL unnest(ARRAY[r.rngsubdiff, r.rngcanonical]::oid[]) f(fn)
     WHERE f.fn <> 0
)
