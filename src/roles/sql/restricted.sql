-- Whether role r has a restriction (restrictions.sql): it is more than an
-- application user of this database.
EXISTS (SELECT 1 FROM restrictions x WHERE x.role = r.oid)
