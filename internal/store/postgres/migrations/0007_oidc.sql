-- OpenID Connect sign-in (issue 5). An identity of a provider (issuer and subject) signs in as
-- the Khiên account it is linked to; roles and scopes stay Khiên's. A sign-in under way is kept
-- until the provider sends the browser back: the SHA-256 of its state (the browser holds the
-- state itself in a cookie), the nonce the ID token must carry and the PKCE verifier. A row is
-- taken, and so deleted, by the one callback that presents its state.

CREATE TABLE oidc_links (
	issuer  text COLLATE "C" NOT NULL,
	subject text COLLATE "C" NOT NULL,
	user_id text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email   text NOT NULL DEFAULT '', -- the address the link was made by, if it was
	created timestamptz NOT NULL,
	PRIMARY KEY (issuer, subject)
);

CREATE INDEX oidc_links_user ON oidc_links (user_id);

CREATE TABLE oidc_pending (
	state_hash text COLLATE "C" PRIMARY KEY,
	nonce      text NOT NULL,
	verifier   text NOT NULL,
	user_id    text NOT NULL DEFAULT '', -- set when the sign-in waits for a local one-time code
	created    timestamptz NOT NULL,
	expires    timestamptz NOT NULL
);

CREATE INDEX oidc_pending_expires ON oidc_pending (expires);
