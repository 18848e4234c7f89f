-- Assurance records (issue 4): attestations with their evidence files (content-addressed by
-- SHA-256 and kept in the store, so a backup of the store is a backup of the evidence), reviews,
-- incidents, authority requests, systems removed from the inventory, daily index snapshots with
-- the exact Input they were computed from, scheduled index methods, the gate policy, gate
-- exceptions and every gate decision. Records are kept as the JSON of their domain type (doc),
-- with the columns that queries select on beside it.

CREATE TABLE evidence_blobs (
	sha256  TEXT NOT NULL PRIMARY KEY,
	size    INTEGER NOT NULL,
	content BLOB NOT NULL,
	created TEXT NOT NULL
) STRICT;

CREATE TABLE attestations (
	id          TEXT NOT NULL PRIMARY KEY,
	control     TEXT NOT NULL,
	org         TEXT,
	system      TEXT,
	declared_at TEXT NOT NULL,
	doc         TEXT NOT NULL
) STRICT;

CREATE INDEX attestations_org ON attestations (org);
CREATE INDEX attestations_system ON attestations (system);

CREATE TABLE attestation_evidence (
	attestation TEXT NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
	sha256      TEXT NOT NULL REFERENCES evidence_blobs (sha256) ON DELETE RESTRICT,
	name        TEXT NOT NULL,
	PRIMARY KEY (attestation, sha256, name)
) STRICT;

CREATE TABLE attestation_reviews (
	attestation TEXT NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
	at          TEXT NOT NULL,
	reviewer    TEXT NOT NULL,
	approved    INTEGER NOT NULL CHECK (approved IN (0, 1)),
	comment     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (attestation, at)
) STRICT;

CREATE TABLE incidents (
	id            TEXT NOT NULL PRIMARY KEY,
	org           TEXT NOT NULL,
	system        TEXT,
	discovered_at TEXT NOT NULL,
	doc           TEXT NOT NULL
) STRICT;

CREATE INDEX incidents_org ON incidents (org);

CREATE TABLE authority_requests (
	id          TEXT NOT NULL PRIMARY KEY,
	org         TEXT NOT NULL,
	received_at TEXT NOT NULL,
	doc         TEXT NOT NULL
) STRICT;

CREATE TABLE system_removals (
	system     TEXT NOT NULL,
	removed_at TEXT NOT NULL,
	org        TEXT NOT NULL,
	doc        TEXT NOT NULL, -- index.RemovedSystem
	last       TEXT NOT NULL, -- the system as it was, for its last known score inputs
	PRIMARY KEY (system, removed_at)
) STRICT;

-- One computation of the index per day: the Input and the method, so that the day can be
-- recomputed bit for bit, and one row per organization with its OrgResult as computed.
CREATE TABLE index_inputs (
	day    TEXT NOT NULL PRIMARY KEY, -- YYYY-MM-DD (UTC)
	as_of  TEXT NOT NULL,             -- RFC 3339 with nanoseconds, exactly as computed
	method TEXT NOT NULL,
	input  TEXT NOT NULL
) STRICT;

CREATE TABLE index_snapshots (
	org    TEXT NOT NULL,
	day    TEXT NOT NULL REFERENCES index_inputs (day) ON DELETE CASCADE,
	tenths INTEGER NOT NULL,
	grade  TEXT NOT NULL,
	result TEXT NOT NULL, -- index.OrgResult
	PRIMARY KEY (org, day)
) STRICT;

CREATE TABLE index_methods (
	id             TEXT NOT NULL PRIMARY KEY,
	effective_from TEXT NOT NULL,
	yaml           TEXT NOT NULL,
	stored         TEXT NOT NULL
) STRICT;

CREATE TABLE gate_policies (
	set_at TEXT NOT NULL,
	id     TEXT NOT NULL,
	yaml   TEXT NOT NULL,
	set_by TEXT NOT NULL,
	PRIMARY KEY (set_at, id)
) STRICT;

CREATE TABLE gate_exceptions (
	id     TEXT NOT NULL PRIMARY KEY,
	system TEXT NOT NULL,
	doc    TEXT NOT NULL
) STRICT;

CREATE INDEX gate_exceptions_system ON gate_exceptions (system);

CREATE TABLE gate_decisions (
	id      TEXT NOT NULL PRIMARY KEY,
	system  TEXT NOT NULL,
	at      TEXT NOT NULL,
	allowed INTEGER NOT NULL CHECK (allowed IN (0, 1)),
	decided_by TEXT NOT NULL,
	doc     TEXT NOT NULL -- gate.Decision
) STRICT;

CREATE INDEX gate_decisions_system ON gate_decisions (system, at);
