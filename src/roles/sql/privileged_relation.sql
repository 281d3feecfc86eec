-- Whether relation c (a pg_class row) reads with a privileged owner's rights
-- (privileged_owner.sql): a materialized view (whose rows were read with its
-- owner's rights when it was refreshed) or a view that is not
-- security_invoker (PostgreSQL 15+: such a view checks the rights of whoever
-- reads it), owned by a privileged owner. Whoever is granted it is no
-- application user. A fragment; fills: privileged_owner.sql.
(c.relkind = 'm'
 OR (c.relkind = 'v'
     AND NOT EXISTS (SELECT 1 FROM pg_options_to_table(c.reloptions) o
                      WHERE o.option_name = 'security_invoker' AND o.option_value::boolean)))
AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = c.relowner AND {privileged_owner})
