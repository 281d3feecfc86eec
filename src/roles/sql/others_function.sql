-- Whether a function (the pg_proc row whose alias fills the hole: p or f)
-- is another role's code: outside pg_catalog, owned neither by the protected
-- user ($2) nor by a superuser (an extension an administrator installed).
-- The deleted user's own functions are; so are the protected user's that a
-- delete moved to it and nobody reviewed yet (the comment mark_unreviewed.sql
-- gives them).
({f}.pronamespace <> 'pg_catalog'::regnamespace
 AND ({f}.proowner <> (SELECT oid FROM pg_roles WHERE rolname = $2)
      OR starts_with(COALESCE(obj_description({f}.oid, 'pg_proc'), ''),
                     'pgusers: unreviewed code of deleted user '))
 AND NOT (SELECT rolsuper FROM pg_roles WHERE oid = {f}.proowner))
