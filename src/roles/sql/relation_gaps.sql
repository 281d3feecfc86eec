-- The tables, views and sequences in the application schemas (app_schemas.sql)
-- on which role $2 lacks one of privileges $3 (tables, views, foreign
-- tables) or $4 (sequences): only those owned by users pgusers made when $5,
-- else all of them (but the role's own, and extensions'); each as (regclass
-- text, whether it is a sequence, its owner, whether pgusers' role may give
-- all of them: it holds them WITH GRANT OPTION, as an owner's member does;
-- and its relkind). Never a view that reads with a privileged owner's
-- rights (privileged_relation.sql): every member of a group granted it
-- would be more than an application user.
-- $1 is the protected user.
--
-- With $6, the floor of a look that found no gap (since.sql), only what may
-- have changed since is looked at: a relation whose row was written since
-- (made, granted on, revoked from, given to another owner), every relation
-- of a schema whose row was, or whose owner was given a membership (it may
-- have become a user pgusers made), and every view and materialized view
-- (whether its owner is privileged changes with rows of other catalogs,
-- some of them deleted; views are few). What else decides, the caller keys
-- the floor with (snapshot_floor.sql). Not a relation an extension let go
-- of: nothing records when; the next look at everything (a new process),
-- or the doctor, finds it. Without $6, every relation.
-- Fills: database_facts.sql, app_schemas.sql, since.sql,
-- privileged_relation.sql.
WITH facts AS ({database_facts}),
     {app_schemas},
     grantee AS (SELECT oid FROM pg_roles WHERE rolname = $2),
     given AS (SELECT $6::text AS floor),
     {since},
     -- (A schema's owner looked up in pg_auth_members by its index: a
     -- scalar subquery, which the planner does not turn into a scan.)
     changed_schemas AS (
       SELECT s.oid FROM app_schemas s JOIN pg_namespace n ON n.oid = s.oid
        WHERE NOT (SELECT everything FROM since)
          AND (age(n.xmin) <= (SELECT age FROM since)
               OR (SELECT true FROM pg_auth_members m
                    WHERE m.member = s.nspowner AND age(m.xmin) <= (SELECT age FROM since)
                    LIMIT 1))),
     mark AS (SELECT r.oid FROM pg_roles r WHERE r.rolname = (SELECT mark FROM facts))
SELECT c.oid::regclass::text, c.relkind = 'S', pg_get_userbyid(c.relowner)::text,
       NOT EXISTS (SELECT 1 FROM unnest(CASE c.relkind WHEN 'S' THEN $4::text[]
                                                       ELSE $3::text[] END) p
                    WHERE NOT CASE c.relkind
                                WHEN 'S' THEN has_sequence_privilege(c.oid, p || ' WITH GRANT OPTION')
                                ELSE has_table_privilege(c.oid, p || ' WITH GRANT OPTION') END),
       c.relkind::text
  FROM pg_class c
 WHERE c.relnamespace IN (SELECT oid FROM app_schemas)
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND c.relowner <> (SELECT oid FROM grantee)
   AND ((SELECT everything FROM since) OR age(c.xmin) <= (SELECT age FROM since)
        OR c.relkind IN ('v', 'm') OR c.relnamespace IN (SELECT oid FROM changed_schemas))
   AND (NOT $5 OR EXISTS (SELECT 1 FROM pg_auth_members m
                           WHERE m.member = c.relowner AND m.roleid = (SELECT oid FROM mark)
                             AND m.member <> (SELECT admin_oid FROM facts)))
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
   AND NOT ({privileged_relation})
   AND EXISTS (SELECT 1 FROM unnest(CASE c.relkind WHEN 'S' THEN $4::text[]
                                                   ELSE $3::text[] END) p
                WHERE NOT CASE c.relkind
                            WHEN 'S' THEN has_sequence_privilege((SELECT oid FROM grantee), c.oid, p)
                            ELSE has_table_privilege((SELECT oid FROM grantee), c.oid, p) END)
 ORDER BY c.oid
