-- Upgrade step 4, on PostgreSQL 16+: the members of the readers group ($1)
-- whose membership lets them SET ROLE to it, quoted (set_option is read
-- through jsonb, so the query prepares before 16 too, finding none).
SELECT DISTINCT quote_ident(pg_get_userbyid(m.member))
  FROM pg_auth_members m
 WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
   AND COALESCE((to_jsonb(m) ->> 'set_option')::boolean, false)
   AND m.member <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
 ORDER BY 1
