-- Whether role oid r.oid (pg_roles row r) is a privileged owner: a
-- superuser, a role with CREATEROLE, REPLICATION or BYPASSRLS, or one of
-- PostgreSQL's predefined roles. A function that runs with such an owner's
-- rights, or a view or a materialized view reading with them, is beyond an
-- application user's: whoever is granted it is no application user
-- (restrictions.sql), so pgusers never grants one to its groups
-- (relation_gaps.sql). A fragment.
(r.rolsuper OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls OR r.rolname ~ '^pg_')
