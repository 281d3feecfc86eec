-- Which of the role names $1 no role has.
SELECT name FROM unnest($1::text[]) AS name
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = name)
