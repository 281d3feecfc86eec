-- Whether the delete whose session is process $1 of role $2 started at $3
-- (microseconds since 1970) still runs, in another session of pgusers' own
-- role. Fills: started.sql.
SELECT $1 <> pg_backend_pid() AND EXISTS (
       SELECT 1 FROM pg_stat_activity a
        WHERE a.pid = $1 AND a.usesysid = $2 AND {started} = $3
          AND a.usesysid = (SELECT oid FROM pg_roles
                             WHERE rolname = current_user))
