-- The oid of role $1 when it is a login role pgusers lists: not a superuser,
-- nor pgusers' own role.
SELECT oid FROM pg_roles
 WHERE rolname = $1 AND rolcanlogin AND NOT rolsuper
   AND rolname <> current_user
