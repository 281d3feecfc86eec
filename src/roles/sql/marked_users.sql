-- The members of the mark role ($1).
SELECT pg_get_userbyid(member)::text FROM pg_auth_members
 WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
