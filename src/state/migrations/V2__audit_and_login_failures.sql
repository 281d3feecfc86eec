-- What operators and the CLI did, and what they tried. Never a password.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    source         text NOT NULL CHECK (source IN ('dashboard', 'cli')),
    action         text NOT NULL,
    database_name  text,
    target         text,
    outcome        text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    detail         text,
    client_address text
);
CREATE INDEX audit_log_newest_first ON audit_log (at DESC, id DESC);

-- Recent failed logins, by operator name and by client address, for throttling.
CREATE TABLE login_failures (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    operator text NOT NULL,
    address  text NOT NULL
);
CREATE INDEX login_failures_at ON login_failures (at);
