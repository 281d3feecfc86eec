-- The roles that keep making large objects once PUBLIC may not: login roles
-- with a footprint in this database (an object, a privilege) or the protected
-- user ($2), but superusers, pg_* roles and the members of the readers group
-- ($1) and of the writers group ($3, which keeps it for its members). Roles
-- of other databases (nothing here) keep nothing.
SELECT quote_ident(r.rolname) FROM pg_roles r
 WHERE r.rolcanlogin AND NOT r.rolsuper AND r.rolname !~ '^pg_'
   AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                    WHERE m.member = r.oid
                      AND m.roleid IN (SELECT oid FROM pg_roles WHERE rolname IN ($1, $3)))
   AND (r.rolname = $2
        OR EXISTS (SELECT 1 FROM pg_shdepend s
                    WHERE s.refclassid = 'pg_authid'::regclass
                      AND s.refobjid = r.oid
                      AND (s.dbid = (SELECT oid FROM pg_database
                                      WHERE datname = current_database())
                           OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
                               AND s.objid = (SELECT oid FROM pg_database
                                               WHERE datname = current_database())))))
 ORDER BY 1
