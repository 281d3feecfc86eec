-- Whether pgusers' role has privilege $2 (USAGE, SET, USAGE WITH ADMIN
-- OPTION...) of role $1.
SELECT pg_has_role(current_user, $1::text, $2)
