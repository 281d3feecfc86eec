-- An attempt is counted before its password is checked, as `pending`; it
-- becomes a failure when the password was wrong, and is deleted when it
-- was right. Pending attempts count towards an address's lockout (so that
-- guesses sent all at once cannot all be checked) but not towards a name's
-- slowdown (so that an operator's own logins do not slow each other).
ALTER TABLE login_failures ADD COLUMN pending boolean NOT NULL DEFAULT false;
CREATE INDEX login_failures_address ON login_failures (address, at);
CREATE INDEX login_failures_operator ON login_failures (operator, at);

-- When a locked-out address's refusals were last recorded in the audit
-- log: one entry per address and window, however many attempts it sends.
CREATE TABLE login_lockouts (
    address     text PRIMARY KEY,
    recorded_at timestamptz NOT NULL
);
