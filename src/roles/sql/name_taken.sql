-- The role whose name is $1 in any case: names that differ only by case
-- would be told apart only by quoting, which applications rarely do, so one
-- of them is enough. Several may match (case twins made elsewhere): the
-- first by name. $1 is a new user's name (ASCII letters, digits and
-- underscores); every name that is it in another case lies in one of the
-- ranges from $2 (inclusive) to $3 (exclusive), each a case of its first
-- letters (changes.rs, case_ranges), read through the index on names: one
-- pass lowering every role's name took 3 ms at 10,000 roles. Names compare
-- and lower as the "C" collation does: ASCII letters only, as PostgreSQL
-- folds an unquoted name.
-- Each range is read alone (OFFSET 0 keeps the name test out of it: the
-- planner would rather test every name, in order, for the LIMIT).
WITH twins AS MATERIALIZED (
    SELECT r.rolname::text AS name
      FROM unnest($2::text[], $3::text[]) AS b(low, high)
     CROSS JOIN LATERAL (SELECT rolname FROM pg_roles
                          WHERE rolname >= b.low::name AND rolname < b.high::name
                         OFFSET 0) r
     WHERE lower(r.rolname) = lower($1 COLLATE "C")
)
SELECT name FROM twins ORDER BY name COLLATE "C" LIMIT 1
