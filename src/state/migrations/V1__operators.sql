-- The people who may use the dashboard. Passwords are argon2id PHC strings.
CREATE TABLE operators (
    name          text PRIMARY KEY,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
