-- The role whose name is $1 whatever the case: names that differ only by case
-- would be told apart only by quoting, which applications rarely do, so one
-- of them is enough. Several may match (case twins made elsewhere): the first
-- by name.
SELECT rolname::text FROM pg_roles WHERE lower(rolname) = lower($1)
 ORDER BY rolname LIMIT 1
