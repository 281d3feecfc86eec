-- Ends the server processes $1 (pids).
SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid
