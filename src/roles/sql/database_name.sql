-- The name of the database connected to.
SELECT current_database()::text
