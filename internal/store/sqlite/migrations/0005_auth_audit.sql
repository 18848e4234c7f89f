-- Accounts, sessions, API tokens, sign-in throttling, and the hash-chained audit log.
-- Secrets are never stored in the clear: passwords as argon2id PHC strings, session ids and
-- API tokens as their SHA-256, second-factor secrets sealed with KHIEN_SECRET_KEY.

CREATE TABLE users (
	id            TEXT NOT NULL PRIMARY KEY,
	login         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	org           TEXT REFERENCES organizations (code) ON DELETE RESTRICT, -- NULL: the whole tree
	password_hash TEXT NOT NULL,
	totp_secret   TEXT NOT NULL DEFAULT '',
	totp_last     INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created       TEXT NOT NULL,
	updated       TEXT NOT NULL
) STRICT;

CREATE INDEX users_org ON users (org);

CREATE TABLE sessions (
	id_hash   TEXT NOT NULL PRIMARY KEY,
	user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf      TEXT NOT NULL,
	created   TEXT NOT NULL,
	last_seen TEXT NOT NULL,
	expires   TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE api_tokens (
	id        TEXT NOT NULL PRIMARY KEY,
	name      TEXT NOT NULL,
	hash      TEXT NOT NULL,
	owner     TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
	org       TEXT REFERENCES organizations (code) ON DELETE RESTRICT, -- NULL: the whole tree
	actions   TEXT NOT NULL, -- space-separated auth.Action values
	created   TEXT NOT NULL,
	expires   TEXT,
	last_used TEXT,
	revoked   TEXT
) STRICT;

CREATE INDEX api_tokens_owner ON api_tokens (owner);
CREATE INDEX api_tokens_org ON api_tokens (org);

CREATE TABLE login_throttle (
	key          TEXT NOT NULL PRIMARY KEY, -- "login:<login>" or "ip:<address>"
	failures     INTEGER NOT NULL,
	last_failure TEXT NOT NULL,
	locked_until TEXT
) STRICT;

-- The audit log. Each entry's hash covers its content and the hash of the entry before it;
-- audit_head remembers the last entry appended, so that deleting the newest entries shows.
-- The triggers refuse edits and deletions: tampering takes dropping them first, and even then
-- `khien audit verify` finds it.
CREATE TABLE audit_log (
	seq         INTEGER NOT NULL PRIMARY KEY,
	at          TEXT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id   TEXT NOT NULL,
	org_path    TEXT NOT NULL, -- "/HN/HN.STTTT/": the organizations the object was under
	before_json TEXT NOT NULL,
	after_json  TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

CREATE TABLE audit_head (
	id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
) STRICT;

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
