-- What pgusers' role has of role $1 on the server whose version number is
-- $2: whether it has its privileges; whether it may take them (ADMIN OPTION
-- on 16+; before, CREATEROLE may grant any role but a superuser); whether its
-- own grant of the role exists; whether the role is a superuser; whether
-- pgusers' role inherits.
SELECT pg_has_role(current_user, r.oid, 'USAGE'),
       CASE WHEN $2 >= 160000
            THEN pg_has_role(current_user, r.oid, 'USAGE WITH ADMIN OPTION')
            ELSE NOT r.rolsuper END,
       EXISTS (SELECT 1 FROM pg_auth_members m
                WHERE m.roleid = r.oid
                  AND m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                  AND m.grantor = (SELECT oid FROM pg_roles WHERE rolname = current_user)),
       r.rolsuper,
       (SELECT rolinherit FROM pg_roles WHERE rolname = current_user)
  FROM pg_roles r WHERE r.rolname = $1
