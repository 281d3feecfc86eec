-- Tokens that let scripts use the API in an operator's name. The token is
-- shown once, when it is created, and never stored: only its SHA-256 is
-- kept (a plain hash suffices for 256 random bits; nobody can guess a
-- preimage, so no salt or slow hash is needed). The id is public: lists
-- show it and `tokens revoke` takes it. Removing an operator revokes its
-- tokens.
CREATE TABLE api_tokens (
    id           text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{10}$'),
    operator     text NOT NULL REFERENCES operators (name) ON DELETE CASCADE,
    label        text NOT NULL,
    read_only    boolean NOT NULL,
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX api_tokens_operator ON api_tokens (operator);

-- What a token does is recorded with the source `api`.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_source_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_source_check
    CHECK (source IN ('dashboard', 'cli', 'api'));
