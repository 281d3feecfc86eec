-- Sessions are kept under the SHA-256 of their id (lower-case hex), never
-- the id itself, so a read of this database (a backup, a replica, a query
-- log) yields no cookie that logs anyone in. A plain hash suffices: the ids
-- are 43 random characters (over 256 bits), so no preimage can be guessed.
-- Sessions that exist are hashed here and stay logged in; a confirmation
-- form rendered before this migration is refused once (its id was bound to
-- the session id) and works when opened again.
ALTER TABLE operator_sessions RENAME COLUMN id TO id_hash;
UPDATE operator_sessions SET id_hash = encode(sha256(convert_to(id_hash, 'UTF8')), 'hex');
ALTER TABLE operator_sessions ADD CONSTRAINT operator_sessions_id_hash_check
    CHECK (id_hash ~ '^[0-9a-f]{64}$');

ALTER TABLE form_uses RENAME COLUMN session_id TO session_hash;
UPDATE form_uses SET session_hash = encode(sha256(convert_to(session_hash, 'UTF8')), 'hex');
ALTER TABLE form_uses ADD CONSTRAINT form_uses_session_hash_check
    CHECK (session_hash ~ '^[0-9a-f]{64}$');
