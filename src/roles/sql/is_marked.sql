-- Whether role $2 is a member of the mark role ($1), and not pgusers' own role
-- (on 16+ a member of the roles it made).
SELECT EXISTS (SELECT 1 FROM pg_auth_members
                WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
                  AND member = (SELECT oid FROM pg_roles WHERE rolname = $2)
                  AND $2 <> current_user)
