-- Why role $1 is not among the users pgusers lists, when it exists: it is
-- pgusers' own role, a superuser, a pg_* role, or it cannot log in.
SELECT rolname = current_user, rolsuper, rolname ~ '^pg_', NOT rolcanlogin
  FROM pg_catalog.pg_roles WHERE rolname = $1
