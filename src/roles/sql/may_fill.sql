-- Whether pgusers' role may make roles members of group $1, when it exists
-- ($2: pgusers' role is a superuser): on 16+ a CREATEROLE role may only for
-- groups it holds ADMIN OPTION on.
SELECT $2 OR current_setting('server_version_num')::int < 160000
       OR pg_has_role(current_user, oid, 'USAGE WITH ADMIN OPTION')
  FROM pg_roles WHERE rolname = $1
