-- The name of the role whose lock serialises pgusers' changes on the server:
-- one per administrator role, named by its oid (pgusers-lock-16384), since on
-- 16+ only the role that made it, of the CREATEROLE roles, may take it.
SELECT 'pgusers-lock-' || oid::text FROM pg_roles WHERE rolname = current_user
