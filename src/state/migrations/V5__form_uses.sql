-- Every confirmation form of the dashboard carries a single-use id. The
-- first POST of a form claims its id here before acting, so a reload, the
-- back button or a double click never acts twice. Keyed by the session as
-- well, so an id means nothing in another operator's session. Never holds a
-- password.
CREATE TABLE form_uses (
    session_id     text NOT NULL,
    form_id        text NOT NULL,
    operator       text NOT NULL,
    action         text NOT NULL,
    target         text NOT NULL,
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    -- Whether the answer showed a generated password (shown once, never kept).
    password_shown boolean NOT NULL DEFAULT false,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    done_at        timestamptz,
    PRIMARY KEY (session_id, form_id)
);
CREATE INDEX form_uses_claimed_at ON form_uses (claimed_at);
