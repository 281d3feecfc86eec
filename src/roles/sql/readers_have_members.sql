-- Whether role $1 (the readers group, the mark role) has members but
-- pgusers' own role (on 16+ a CREATEROLE role is made a member, with ADMIN
-- OPTION only, of each role it creates).
SELECT EXISTS (SELECT 1 FROM pg_auth_members
                WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
                  AND member <> (SELECT oid FROM pg_roles WHERE rolname = current_user))
