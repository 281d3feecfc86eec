-- The roles other than pgusers' own that are members of role $1 (an oid),
-- whatever the membership's options: SET acts as it, INHERIT has its rights
-- over its objects, ADMIN may grant either.
SELECT r.rolname::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
 WHERE m.roleid = $1 AND r.rolname <> current_user
 GROUP BY r.rolname ORDER BY r.rolname
