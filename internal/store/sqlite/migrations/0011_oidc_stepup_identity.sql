-- A sign-in through a provider that waits for the account's local one-time code keeps the
-- identity it came with (issuer and subject), so that the audit entry of the sign-in, made
-- once the code is right, names that identity too.

ALTER TABLE oidc_pending ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_pending ADD COLUMN subject TEXT NOT NULL DEFAULT '';
