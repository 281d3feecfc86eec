-- An owned object's key in pg_shdepend row s: classid:objid.
(s.classid::oid::text || ':' || s.objid::text)
