-- Logged-in sessions, so that logging out, a password change or removing an
-- operator ends them on the server, not only in one browser.
CREATE TABLE operator_sessions (
    id         text PRIMARY KEY,
    operator   text NOT NULL REFERENCES operators (name) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator);
