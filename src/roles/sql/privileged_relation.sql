-- Whether relation c (a pg_class row) reads with a privileged owner's rights
-- (privileged_owner.sql): a materialized view of a privileged owner as a
-- definer (its query, functions included, ran as its owner when it was
-- refreshed, and its rows keep what that read), or a view of a privileged
-- owner as a view's (its relations' rights are checked as its owner); but
-- not a security_invoker view (PostgreSQL 15+: it checks the rights of
-- whoever reads it) with no rule but its SELECT (an INSERT, UPDATE or
-- DELETE rule is still checked as the owner). Whoever is granted it is no
-- application user. A fragment; fills: privileged_owner.sql, twice.
((c.relkind = 'm'
  AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = c.relowner AND {privileged_definer}))
 OR (c.relkind = 'v'
     AND NOT (EXISTS (SELECT 1 FROM pg_options_to_table(c.reloptions) o
                       WHERE CASE WHEN o.option_name = 'security_invoker'
                                  THEN o.option_value::boolean END)
              AND NOT EXISTS (SELECT 1 FROM pg_rewrite w
                               WHERE w.ev_class = c.oid AND w.ev_type <> '1'))
     AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = c.relowner AND {privileged_owner})))
