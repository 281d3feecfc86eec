-- Answers when the database does.
SELECT 1
