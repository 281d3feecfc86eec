-- The memberships role $1 was given (the mark role, the writers group: roles
-- that must be members of nothing), as statements taking them back.
SELECT format('REVOKE %I FROM %I;', g.rolname, $1::text)
  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
 WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)
