-- Statements commenting every routine of role $1 (an oid, named $2) as
-- unreviewed, keeping its own comment after it; run before its routines move
-- to the protected user. Until a person removes that comment, such a routine
-- counts as another role's code (others_function.sql).
SELECT format('COMMENT ON ROUTINE %s IS %L;', p.oid::regprocedure,
              'pgusers: unreviewed code of deleted user ' || quote_ident($2::text)
              || COALESCE('; its comment was: ' || obj_description(p.oid, 'pg_proc'), ''))
  FROM pg_proc p WHERE p.proowner = $1 ORDER BY p.oid
