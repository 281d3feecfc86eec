-- What the lock roles of every pgusers on this server say of their last
-- change: each change writes a new mark into its lock roles' comments
-- (changes.rs), so this differs after any change pgusers made, through any
-- process, database or administrator role; NULL before the first. The kept
-- list of users (kept.rs) stands only while it is the same. The roles'
-- names are read through the name index, from its prefix; their comments
-- (33 per administrator role) are summed up in one digest (SHA-256: MD5 is
-- refused on a server in FIPS mode).
SELECT encode(sha256(convert_to(string_agg(d.description, ' ' ORDER BY r.oid), 'UTF8')), 'hex')
  FROM pg_roles r
  JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass
 WHERE r.rolname LIKE 'pgusers-lock-%'
