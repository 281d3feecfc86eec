-- Triggers a marked user (a member of the mark role, $1) put, while it could,
-- on tables of other roles, calling its code (as their function, or in WHEN,
-- directly or through operators and types): each runs as whoever writes the
-- table. (table owner, statement disabling it).
-- Fills: type_code.sql, reached.sql.
WITH RECURSIVE {type_code},
     marked AS (SELECT m.member AS oid FROM pg_auth_members m
                 WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1))
SELECT pg_get_userbyid(c.relowner)::text,
       format('ALTER TABLE %s DISABLE TRIGGER %I;', c.oid::regclass, t.tgname)
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
   AND ((p.proowner IN (SELECT oid FROM marked) AND p.proowner <> c.relowner)
        OR EXISTS (SELECT 1 FROM pg_depend d
                    CROSS JOIN LATERAL ({reached}) r(fn)
                     JOIN pg_proc q ON q.oid = r.fn
                    WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                      AND q.proowner IN (SELECT oid FROM marked)
                      AND q.proowner <> c.relowner))
 ORDER BY 1, 2
