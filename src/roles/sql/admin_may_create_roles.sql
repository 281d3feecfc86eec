-- pgusers' own role, and whether it may create roles (CREATEROLE or superuser).
SELECT current_user::text, rolsuper OR rolcreaterole
  FROM pg_catalog.pg_roles WHERE rolname = current_user
