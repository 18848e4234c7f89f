-- OpenID Connect sign-in (issue 5). An identity of a provider (issuer and subject) signs in as
-- the Khiên account it is linked to; roles and scopes stay Khiên's. A sign-in under way is kept
-- until the provider sends the browser back: the SHA-256 of its state (the browser holds the
-- state itself in a cookie), the nonce the ID token must carry and the PKCE verifier. A row is
-- taken, and so deleted, by the one callback that presents its state.

CREATE TABLE oidc_links (
	issuer  TEXT NOT NULL,
	subject TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email   TEXT NOT NULL DEFAULT '', -- the address the link was made by, if it was
	created TEXT NOT NULL,
	PRIMARY KEY (issuer, subject)
) STRICT;

CREATE INDEX oidc_links_user ON oidc_links (user_id);

CREATE TABLE oidc_pending (
	state_hash TEXT NOT NULL PRIMARY KEY,
	nonce      TEXT NOT NULL,
	verifier   TEXT NOT NULL,
	user_id    TEXT NOT NULL DEFAULT '', -- set when the sign-in waits for a local one-time code
	created    TEXT NOT NULL,
	expires    TEXT NOT NULL
) STRICT;

CREATE INDEX oidc_pending_expires ON oidc_pending (expires);
