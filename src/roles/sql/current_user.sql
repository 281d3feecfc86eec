-- The role pgusers connects as.
SELECT current_user::text
