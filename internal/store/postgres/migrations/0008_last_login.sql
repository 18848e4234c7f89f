-- The last sign-in of each account (issue 5): when, and how (password: the sign-in form or
-- POST /api/v1/session; oidc: through the provider, with or without the local one-time code
-- after it). It is written in the transaction that opens the session, so a failed sign-in
-- never moves it; NULL until the first sign-in. Each session remembers how it was opened too.

ALTER TABLE users ADD COLUMN last_login timestamptz;
ALTER TABLE users ADD COLUMN last_login_method text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN method text NOT NULL DEFAULT '';
