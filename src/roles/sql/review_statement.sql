-- What a person runs once they have reviewed function f (a pg_proc row) and
-- trust it to run as the protected user ($2): hand it over, or, when a delete
-- already did, remove the unreviewed comment (putting its own back).
CASE WHEN f.proowner = (SELECT oid FROM pg_roles WHERE rolname = $2)
     THEN format('COMMENT ON ROUTINE %s IS %s;', f.oid::regprocedure,
                 COALESCE(quote_literal(substring(obj_description(f.oid, 'pg_proc')
                                                  FROM '; its comment was: (.*)$')),
                          'NULL'))
     ELSE format('ALTER ROUTINE %s OWNER TO %I;', f.oid::regprocedure, $2::text) END
