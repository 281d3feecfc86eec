-- Relations of public the readers group ($1) may not read, with their kind,
-- owner and relkind; extensions' own relations aside (an extension decides who
-- reads its views).
SELECT c.oid::regclass::text,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'f' THEN 'foreign table' ELSE 'sequence' END,
       pg_get_userbyid(c.relowner)::text, c.relkind::text
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
   AND NOT CASE WHEN c.relkind = 'S'
                THEN has_sequence_privilege($1::text, c.oid, 'SELECT')
                ELSE has_table_privilege($1::text, c.oid, 'SELECT') END
 ORDER BY 1
