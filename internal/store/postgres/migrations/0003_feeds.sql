-- Vulnerability feeds imported offline (khien feeds import): OSV records and the CISA KEV
-- catalog, kept as the JSON they came in so that the matching index can be rebuilt.

CREATE TABLE advisories (
	id       text COLLATE "C" PRIMARY KEY,
	source   text NOT NULL,
	modified timestamptz NOT NULL,
	doc      text NOT NULL,
	imported timestamptz NOT NULL
);

CREATE TABLE kev (
	cve             text COLLATE "C" PRIMARY KEY,
	catalog_version text NOT NULL,
	doc             text NOT NULL,
	imported        timestamptz NOT NULL
);
