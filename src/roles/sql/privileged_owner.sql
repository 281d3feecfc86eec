-- Whether role oid r.oid (pg_roles row r) is a privileged owner: a
-- superuser, a role with CREATEROLE, REPLICATION or BYPASSRLS, one of
-- PostgreSQL's predefined roles, or a member, however indirectly, of one
-- whose name matches the pattern sql.rs fills in (a member has its rights, or may take
-- them with SET ROLE, whatever the membership's options). Filled twice
-- (sql.rs): as a definer's, for what runs as its owner (a function with its
-- rights, a materialized view's query at refresh), every predefined role
-- counts (pg_signal_backend, pg_read_server_files, pg_monitor...); as a
-- view's owner, only those that read or write every table (a view checks
-- only its relations' rights as its owner; the functions it calls check
-- whoever reads it), so that an application's role in pg_monitor is no
-- privileged owner of its views. Such a function or view is beyond an application
-- user's: whoever is granted it is no application user (restrictions.sql),
-- so pgusers never grants one to its groups (relation_gaps.sql). A
-- fragment; the walk up r's memberships is a few index lookups, so use it
-- on the owners of a few objects, not on every role.
(r.rolsuper OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls OR r.rolname ~ '^pg_'
 OR EXISTS (WITH RECURSIVE above(oid) AS (
                SELECT m.roleid FROM pg_auth_members m WHERE m.member = r.oid
                UNION
                SELECT m.roleid FROM pg_auth_members m JOIN above a ON m.member = a.oid)
            SELECT 1 FROM above JOIN pg_roles p ON p.oid = above.oid
             WHERE p.rolname ~ '{predefined}'))
