-- Whether role $1 is a superuser (false when it does not exist).
SELECT COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = $1), false)
