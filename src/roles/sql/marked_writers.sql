-- Upgrade step 4: the users pgusers made read-write (members of the mark role,
-- $1, and of neither the readers group, $2, nor the writers group, $3; never
-- pgusers' own role, which on 16+ is a member of the roles it made), each by
-- name and quoted.
SELECT pg_get_userbyid(m.member)::text, quote_ident(pg_get_userbyid(m.member))
  FROM pg_auth_members m
 WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
   AND NOT EXISTS (SELECT 1 FROM pg_auth_members g
                    WHERE g.member = m.member
                      AND g.roleid IN (SELECT oid FROM pg_roles WHERE rolname IN ($2, $3)))
   AND m.member <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
 ORDER BY 1
