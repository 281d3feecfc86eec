-- Who may give privileges on schema public: its owner, or since PostgreSQL
-- 15, when that is pg_database_owner (a group nobody logs in as), the
-- database's owner.
(SELECT CASE pg_get_userbyid(n.nspowner)
          WHEN 'pg_database_owner'
          THEN (SELECT pg_get_userbyid(datdba) FROM pg_database
                 WHERE datname = current_database())
          ELSE pg_get_userbyid(n.nspowner) END::text
   FROM pg_namespace n WHERE n.nspname = 'public')
