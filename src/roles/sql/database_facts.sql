-- The facts every query agrees on, in one row: the current database (its oid
-- and name) and its owner; the protected user ($1 when configured, else the
-- owner), whether it exists and its oid; the names of the readers group, of
-- the writers group and of the mark role (the database's oid replaces a name
-- longer than 46 bytes);
-- the upgrade step recorded in the mark role's comment (0: none yet); the
-- server's version; pgusers' own role, its oid and whether it is a superuser.
-- Read alone, and as the `facts` CTE of the statements that judge roles.
SELECT d.oid, d.datname::text AS database,
       pg_get_userbyid(d.datdba)::text AS owner,
       COALESCE($1::text, pg_get_userbyid(d.datdba)::text) AS protected,
       EXISTS (SELECT 1 FROM pg_roles p
                WHERE p.rolname = COALESCE($1::text, pg_get_userbyid(d.datdba)::text)) AS protected_exists,
       CASE WHEN octet_length(d.datname) <= 46
            THEN 'pgusers-readonly-' || d.datname
            ELSE 'pgusers-readonly-' || d.oid::text END AS readers,
       CASE WHEN octet_length(d.datname) <= 46
            THEN 'pgusers-writers-' || d.datname
            ELSE 'pgusers-writers-' || d.oid::text END AS writers,
       k.mark,
       COALESCE((SELECT substring(s.description FROM '; step ([0-9]+)$')::int
                   FROM pg_shdescription s
                  WHERE s.classoid = 'pg_authid'::regclass
                    AND s.objoid = (SELECT m.oid FROM pg_roles m WHERE m.rolname = k.mark)),
                0) AS step,
       current_setting('server_version_num')::int AS version_num,
       current_user::text AS admin,
       (SELECT p.oid FROM pg_roles p
         WHERE p.rolname = COALESCE($1::text, pg_get_userbyid(d.datdba)::text)) AS protected_oid,
       (SELECT a.oid FROM pg_roles a WHERE a.rolname = current_user) AS admin_oid,
       (SELECT a.rolsuper FROM pg_roles a WHERE a.rolname = current_user) AS admin_super
  FROM pg_database d
 CROSS JOIN LATERAL (SELECT CASE WHEN octet_length(d.datname) <= 46
                                 THEN 'pgusers-users-' || d.datname
                                 ELSE 'pgusers-users-' || d.oid::text END AS mark) k
 WHERE d.datname = current_database()
