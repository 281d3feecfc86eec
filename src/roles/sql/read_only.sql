-- Whether role r is read-only: a member of the readers group (which only
-- reads, see only_read.sql) and of no other role but the mark role (which
-- must give nothing: a member of nothing, granted nothing here), with no
-- privilege or object of its own in this database (a member of the group that
-- was also granted INSERT somewhere is not), but for what PUBLIC lets any role
-- make whatever pgusers does: large objects (where pgusers' role may not take
-- their making from PUBLIC) and default privileges for itself, which write no
-- table. Index lookups only. Reads `facts`, `readers`, `mark` and `only_read`.
((SELECT only_read FROM only_read)
 AND EXISTS (SELECT 1 FROM pg_auth_members m
              WHERE m.member = r.oid AND m.roleid = (SELECT oid FROM readers))
 AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                  WHERE m.member = r.oid
                    AND m.roleid IS DISTINCT FROM (SELECT oid FROM readers)
                    AND m.roleid IS DISTINCT FROM (SELECT oid FROM mark))
 AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                  WHERE m.member = (SELECT oid FROM mark))
 AND NOT EXISTS (SELECT 1 FROM pg_shdepend s
                  WHERE s.refclassid = 'pg_authid'::regclass
                    AND s.refobjid = (SELECT oid FROM mark) AND s.deptype = 'a'
                    AND (s.dbid = (SELECT oid FROM facts)
                         OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
                             AND s.objid = (SELECT oid FROM facts))))
 AND NOT EXISTS (SELECT 1 FROM pg_shdepend s
                  WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid
                    AND NOT (s.deptype = 'o'
                             AND s.classid IN ('pg_largeobject'::regclass,
                                               'pg_default_acl'::regclass))
                    AND (s.dbid = (SELECT oid FROM facts)
                         OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
                             AND s.objid = (SELECT oid FROM facts)))))
