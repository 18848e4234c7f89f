-- Assurance records (issue 4): attestations with their evidence files (content-addressed by
-- SHA-256 and kept in the store, so a backup of the store is a backup of the evidence), reviews,
-- incidents, authority requests, systems removed from the inventory, daily index snapshots with
-- the exact Input they were computed from, scheduled index methods, the gate policy, gate
-- exceptions and every gate decision. Records are kept as the JSON of their domain type (doc),
-- with the columns that queries select on beside it.

CREATE TABLE evidence_blobs (
	sha256  text COLLATE "C" PRIMARY KEY,
	size    bigint NOT NULL,
	content bytea NOT NULL,
	created text COLLATE "C" NOT NULL
);

CREATE TABLE attestations (
	id          text COLLATE "C" PRIMARY KEY,
	control     text COLLATE "C" NOT NULL,
	org         text COLLATE "C",
	system      text COLLATE "C",
	declared_at text COLLATE "C" NOT NULL,
	doc         text COLLATE "C" NOT NULL
);

CREATE INDEX attestations_org ON attestations (org);
CREATE INDEX attestations_system ON attestations (system);

CREATE TABLE attestation_evidence (
	attestation text COLLATE "C" NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
	sha256      text COLLATE "C" NOT NULL REFERENCES evidence_blobs (sha256) ON DELETE RESTRICT,
	name        text COLLATE "C" NOT NULL,
	PRIMARY KEY (attestation, sha256, name)
);

CREATE TABLE attestation_reviews (
	attestation text COLLATE "C" NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
	at          text COLLATE "C" NOT NULL,
	reviewer    text COLLATE "C" NOT NULL,
	approved    boolean NOT NULL,
	comment     text COLLATE "C" NOT NULL DEFAULT '',
	PRIMARY KEY (attestation, at)
);

CREATE TABLE incidents (
	id            text COLLATE "C" PRIMARY KEY,
	org           text COLLATE "C" NOT NULL,
	system        text COLLATE "C",
	discovered_at text COLLATE "C" NOT NULL,
	doc           text COLLATE "C" NOT NULL
);

CREATE INDEX incidents_org ON incidents (org);

CREATE TABLE authority_requests (
	id          text COLLATE "C" PRIMARY KEY,
	org         text COLLATE "C" NOT NULL,
	received_at text COLLATE "C" NOT NULL,
	doc         text COLLATE "C" NOT NULL
);

CREATE TABLE system_removals (
	system     text COLLATE "C" NOT NULL,
	removed_at text COLLATE "C" NOT NULL,
	org        text COLLATE "C" NOT NULL,
	doc        text COLLATE "C" NOT NULL, -- index.RemovedSystem
	last       text COLLATE "C" NOT NULL, -- the system as it was, for its last known score inputs
	PRIMARY KEY (system, removed_at)
);

-- One computation of the index per day: the Input and the method, so that the day can be
-- recomputed bit for bit, and one row per organization with its OrgResult as computed.
CREATE TABLE index_inputs (
	day    text COLLATE "C" PRIMARY KEY, -- YYYY-MM-DD (UTC)
	as_of  text COLLATE "C" NOT NULL,             -- RFC 3339 with nanoseconds, exactly as computed
	method text COLLATE "C" NOT NULL,
	input  text COLLATE "C" NOT NULL
);

CREATE TABLE index_snapshots (
	org    text COLLATE "C" NOT NULL,
	day    text COLLATE "C" NOT NULL REFERENCES index_inputs (day) ON DELETE CASCADE,
	tenths bigint NOT NULL,
	grade  text COLLATE "C" NOT NULL,
	result text COLLATE "C" NOT NULL, -- index.OrgResult
	PRIMARY KEY (org, day)
);

CREATE TABLE index_methods (
	id             text COLLATE "C" PRIMARY KEY,
	effective_from text COLLATE "C" NOT NULL,
	yaml           text COLLATE "C" NOT NULL,
	stored         text COLLATE "C" NOT NULL
);

CREATE TABLE gate_policies (
	set_at text COLLATE "C" NOT NULL,
	id     text COLLATE "C" NOT NULL,
	yaml   text COLLATE "C" NOT NULL,
	set_by text COLLATE "C" NOT NULL,
	PRIMARY KEY (set_at, id)
);

CREATE TABLE gate_exceptions (
	id     text COLLATE "C" PRIMARY KEY,
	system text COLLATE "C" NOT NULL,
	doc    text COLLATE "C" NOT NULL
);

CREATE INDEX gate_exceptions_system ON gate_exceptions (system);

CREATE TABLE gate_decisions (
	id      text COLLATE "C" PRIMARY KEY,
	system  text COLLATE "C" NOT NULL,
	at      text COLLATE "C" NOT NULL,
	allowed boolean NOT NULL,
	decided_by text COLLATE "C" NOT NULL,
	doc     text COLLATE "C" NOT NULL -- gate.Decision
);

CREATE INDEX gate_decisions_system ON gate_decisions (system, at);
