-- Whether pg_shdepend row s is a grant of making large objects, which
-- pgusers takes from PUBLIC and gives back to every role but the read-only
-- users (LARGE_OBJECT_MAKERS in privileges.rs): what PUBLIC had, so it counts
-- for nothing in restrictions.sql. (Functions of pg_catalog have the same
-- oids in every database.)
(s.deptype = 'a' AND s.classid = 'pg_proc'::regclass
 AND s.objid IN ('pg_catalog.lo_create(oid)'::regprocedure,
                 'pg_catalog.lo_creat(integer)'::regprocedure,
                 'pg_catalog.lo_from_bytea(oid, bytea)'::regprocedure))
