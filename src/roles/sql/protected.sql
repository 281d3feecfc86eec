-- Whether role r is protected: the protected user or a database's owner.
-- Reads `facts`.
(r.oid = facts.protected_oid OR EXISTS (SELECT 1 FROM pg_database o WHERE o.datdba = r.oid))
