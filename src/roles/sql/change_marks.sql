-- What the lock roles of every pgusers on this server say of their last
-- change: each change writes a new mark into its lock roles' comments
-- (changes.rs), so this differs after any change pgusers made, through any
-- process, database or administrator role; NULL before the first. The kept
-- list of users (kept.rs) stands only while it is the same. The roles'
-- names are read through the name index, from its prefix; their comments
-- (65 per administrator role at most) are summed up in one digest.
SELECT md5(string_agg(d.description, ' ' ORDER BY r.oid))
  FROM pg_roles r
  JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass
 WHERE r.rolname LIKE 'pgusers-lock-%'
