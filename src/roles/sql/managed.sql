-- Whether role r (a row of pg_roles or pg_authid) is one pgusers lists: the
-- protected user (even when pgusers connects as it, as is common on managed
-- services, or it is an administrator), and login roles that are not
-- superusers, pg_* roles or the role pgusers connects as. Reads `facts`.
-- Login excludes the pg_* roles: on every PostgreSQL pgusers supports they
-- are the predefined roles, which cannot log in and cannot be altered, and no
-- role can be made or renamed to a pg_ name (nor come through pg_upgrade). So
-- no name is compared, and roles are compared by oid: the list's count over
-- ten thousand roles runs no function per row (a name range test cost 0.7 ms
-- of its 2.2).
(r.oid = (SELECT protected_oid FROM facts)
 OR (r.rolcanlogin AND NOT r.rolsuper
     AND r.oid IS DISTINCT FROM (SELECT admin_oid FROM facts)))
