-- Whether relation c (a pg_class row) reads with a privileged owner's rights
-- (privileged_owner.sql, as a view's owner): a materialized view (whose rows
-- were read with its owner's rights when it was refreshed) or a view, owned
-- by a privileged owner; but not a security_invoker view (PostgreSQL 15+:
-- it checks the rights of whoever reads it) with no rule but its SELECT
-- (an INSERT, UPDATE or DELETE rule is still checked as the owner).
-- Whoever is granted it is no application user. A fragment; fills:
-- privileged_owner.sql.
(c.relkind = 'm'
 OR (c.relkind = 'v'
     AND NOT (EXISTS (SELECT 1 FROM pg_options_to_table(c.reloptions) o
                       WHERE CASE WHEN o.option_name = 'security_invoker'
                                  THEN o.option_value::boolean END)
              AND NOT EXISTS (SELECT 1 FROM pg_rewrite w
                               WHERE w.ev_class = c.oid AND w.ev_type <> '1'))))
AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = c.relowner AND {privileged_owner})
