-- Whether role $1 may create in schema public, and who may change that
-- (public_owner.sql). Fills: public_owner.sql.
SELECT has_schema_privilege($1::text, 'public', 'CREATE'), {public_owner}
