-- A page of the users pgusers lists, searched and filtered, and how many
-- match, in one round trip: one row per user shown, each with the count, or a
-- single row of the count when none is shown. listing.rs chooses, for each
-- variant, the source (pg_authid or pg_roles), how the page's roles are found
-- (candidates, scope, shown) and counted (total), and the window; see it for
-- the parameters. Fills: database_facts.sql, only_read.sql, restrictions.sql,
-- client_session.sql, read_only.sql, protected.sql, password_encryption.sql.
WITH RECURSIVE facts AS ({database_facts}),
{only_read},
{candidates}
scope AS ({scope}),
{restrictions},
{shown}
total AS ({total}),
activity AS (
    SELECT a.usesysid, count(*) AS n FROM pg_stat_activity a
     WHERE {client_session} AND a.pid <> pg_backend_pid()
     GROUP BY a.usesysid)
SELECT u.*, total.n FROM total LEFT JOIN (
    SELECT r.rolname::text AS name,
           {read_only} AS read_only,
           {protected} AS protected,
           {encryption} AS encryption,
           x.kind, x.via, x.detail,
           COALESCE(a.n, 0) AS sessions,
           CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity' THEN NULL
                WHEN r.rolvaliduntil = '-infinity' THEN '-infinity'
                ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC',
                             'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS expires,
           COALESCE(r.rolvaliduntil < now(), false) AS expired,
           NULLIF(r.rolconnlimit, -1) AS connection_limit
      FROM shown JOIN {source} r ON r.oid = shown.oid CROSS JOIN facts
      LEFT JOIN restrictions x ON x.role = r.oid
      LEFT JOIN activity a ON a.usesysid = r.oid) u ON true
 ORDER BY u.name
