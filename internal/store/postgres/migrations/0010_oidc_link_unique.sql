-- At most one identity of a provider is linked to an account by its e-mail address. Sign-in
-- checks that no other identity of the provider is linked before it links one, but the check
-- and the insert are separate transactions: concurrent first sign-ins could each pass it. The
-- index makes the second insert fail, which sign-in reports as linked_other. Links made by an
-- operator (khien user link-oidc, email '') are not limited.
--
-- Extra links by e-mail that such a race left are removed first, keeping each account's
-- oldest of each provider: they were never meant to exist, and the index cannot be built
-- with them.

DELETE FROM oidc_links
WHERE email <> ''
  AND EXISTS (
	SELECT 1 FROM oidc_links AS o
	WHERE o.user_id = oidc_links.user_id AND o.issuer = oidc_links.issuer AND o.email <> ''
	  AND (o.created < oidc_links.created OR o.created = oidc_links.created AND o.subject < oidc_links.subject)
  );

CREATE UNIQUE INDEX oidc_links_user_issuer_email ON oidc_links (user_id, issuer) WHERE email <> '';
