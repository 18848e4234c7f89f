-- Vulnerability feeds imported offline (khien feeds import): OSV records and the CISA KEV
-- catalog, kept as the JSON they came in so that the matching index can be rebuilt.

CREATE TABLE advisories (
	id       TEXT NOT NULL PRIMARY KEY,
	source   TEXT NOT NULL,
	modified TEXT NOT NULL,
	doc      TEXT NOT NULL,
	imported TEXT NOT NULL
) STRICT;

CREATE TABLE kev (
	cve             TEXT NOT NULL PRIMARY KEY,
	catalog_version TEXT NOT NULL,
	doc             TEXT NOT NULL,
	imported        TEXT NOT NULL
) STRICT;
