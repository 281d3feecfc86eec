-- Whether another session holds a lock on role $1 (an oid).
-- Fills: role_locked.sql.
SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE {role_locked})
