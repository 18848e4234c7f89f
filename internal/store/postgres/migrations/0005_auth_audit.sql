-- Accounts, sessions, API tokens, sign-in throttling, and the hash-chained audit log.
-- Secrets are never stored in the clear: passwords as argon2id PHC strings, session ids and
-- API tokens as their SHA-256, second-factor secrets sealed with KHIEN_SECRET_KEY.

CREATE TABLE users (
	id            text COLLATE "C" PRIMARY KEY,
	login         text COLLATE "C" NOT NULL UNIQUE,
	name          text NOT NULL,
	role          text NOT NULL,
	org           text COLLATE "C" REFERENCES organizations (code) ON DELETE RESTRICT, -- NULL: the whole tree
	password_hash text NOT NULL,
	totp_secret   text NOT NULL DEFAULT '',
	totp_last     bigint NOT NULL DEFAULT 0,
	disabled      boolean NOT NULL DEFAULT false,
	created       timestamptz NOT NULL,
	updated       timestamptz NOT NULL
);

CREATE INDEX users_org ON users (org);

CREATE TABLE sessions (
	id_hash   text COLLATE "C" PRIMARY KEY,
	user_id   text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf      text NOT NULL,
	created   timestamptz NOT NULL,
	last_seen timestamptz NOT NULL,
	expires   timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE api_tokens (
	id        text COLLATE "C" PRIMARY KEY,
	name      text NOT NULL,
	hash      text NOT NULL,
	owner     text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
	org       text COLLATE "C" REFERENCES organizations (code) ON DELETE RESTRICT, -- NULL: the whole tree
	actions   text NOT NULL, -- space-separated auth.Action values
	created   timestamptz NOT NULL,
	expires   timestamptz,
	last_used timestamptz,
	revoked   timestamptz
);

CREATE INDEX api_tokens_owner ON api_tokens (owner);
CREATE INDEX api_tokens_org ON api_tokens (org);

CREATE TABLE login_throttle (
	key          text COLLATE "C" PRIMARY KEY, -- "login:<login>" or "ip:<address>"
	failures     integer NOT NULL,
	last_failure timestamptz NOT NULL,
	locked_until timestamptz
);

-- The audit log. Each entry's hash covers its content and the hash of the entry before it;
-- audit_head remembers the last entry appended, so that deleting the newest entries shows.
-- The trigger refuses edits and deletions: tampering takes dropping it first, and even then
-- `khien audit verify` finds it. Before and after are text, not jsonb, so that they read
-- back byte for byte as they were hashed.
CREATE TABLE audit_log (
	seq         bigint PRIMARY KEY,
	at          timestamptz NOT NULL,
	actor       text NOT NULL,
	action      text NOT NULL,
	object_type text NOT NULL,
	object_id   text NOT NULL,
	org_path    text NOT NULL, -- "/HN/HN.STTTT/": the organizations the object was under
	before_json text NOT NULL,
	after_json  text NOT NULL,
	prev_hash   text NOT NULL,
	hash        text NOT NULL
);

CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

CREATE TABLE audit_head (
	id   integer PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash text NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
