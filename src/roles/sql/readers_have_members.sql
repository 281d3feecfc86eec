-- Whether group $1 (the readers group) has members.
SELECT EXISTS (SELECT 1 FROM pg_auth_members
                WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1))
