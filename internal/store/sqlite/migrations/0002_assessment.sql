-- Assessment: runs of the check families over a resource, every result of each run, the
-- findings those results fold into with their history, and when each resource is next due.
-- Runs, results and findings refer to resources and systems by identifier without a foreign
-- key: the record of what was seen outlives changes to the inventory.

CREATE TABLE runs (
	id                TEXT NOT NULL PRIMARY KEY,
	resource          TEXT NOT NULL,
	system            TEXT NOT NULL,
	triggered_by      TEXT NOT NULL CHECK (triggered_by IN ('schedule', 'manual')),
	status            TEXT NOT NULL CHECK (status IN ('complete', 'unreachable')),
	started           TEXT NOT NULL,
	finished          TEXT NOT NULL,
	-- assess.Counts
	n_pass            INTEGER NOT NULL DEFAULT 0,
	n_fail            INTEGER NOT NULL DEFAULT 0,
	n_error           INTEGER NOT NULL DEFAULT 0,
	n_not_applicable  INTEGER NOT NULL DEFAULT 0,
	n_new             INTEGER NOT NULL DEFAULT 0,
	n_resolved        INTEGER NOT NULL DEFAULT 0,
	n_reopened        INTEGER NOT NULL DEFAULT 0,
	n_persisting      INTEGER NOT NULL DEFAULT 0,
	n_open            INTEGER NOT NULL DEFAULT 0,
	n_open_critical   INTEGER NOT NULL DEFAULT 0,
	n_known_exploited INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX runs_resource ON runs (resource, started);

-- Every result of every run, passes included: the index needs to know which checks applied,
-- and a finding's history is read from them.
CREATE TABLE results (
	run_id    TEXT NOT NULL REFERENCES runs (id),
	resource  TEXT NOT NULL,
	check_id  TEXT NOT NULL,
	endpoint  TEXT NOT NULL,
	status    TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error', 'not_applicable')),
	reason_vi TEXT NOT NULL DEFAULT '',
	reason_en TEXT NOT NULL DEFAULT '',
	evidence  TEXT NOT NULL DEFAULT '', -- a JSON object, or '' for none
	at        TEXT NOT NULL,
	PRIMARY KEY (run_id, check_id, endpoint)
) STRICT;

CREATE INDEX results_resource ON results (resource, check_id, endpoint);

-- One row per check on one endpoint of one resource, keyed by finding.Fingerprint. family,
-- system, severity_rank and due repeat what can be worked out, so that listings filter and
-- sort with plain comparisons; due is when an open finding becomes overdue (for an accepted
-- one, when it would once its acceptance expires), NULL when it has no deadline or is fixed.
CREATE TABLE findings (
	fingerprint      TEXT NOT NULL PRIMARY KEY,
	check_id         TEXT NOT NULL,
	family           TEXT NOT NULL,
	resource         TEXT NOT NULL,
	system           TEXT NOT NULL,
	endpoint         TEXT NOT NULL,
	severity         TEXT NOT NULL,
	severity_rank    INTEGER NOT NULL,
	status           TEXT NOT NULL CHECK (status IN ('open', 'fixed', 'reopened', 'accepted')),
	last_result      TEXT NOT NULL,
	reason_vi        TEXT NOT NULL DEFAULT '',
	reason_en        TEXT NOT NULL DEFAULT '',
	evidence         TEXT NOT NULL DEFAULT '',
	first_seen       TEXT NOT NULL,
	last_seen        TEXT NOT NULL,
	opened_at        TEXT NOT NULL,
	fixed_at         TEXT,
	due              TEXT,
	reopens          INTEGER NOT NULL DEFAULT 0,
	run_id           TEXT NOT NULL REFERENCES runs (id),
	accepted_by      TEXT NOT NULL DEFAULT '',
	accepted_reason  TEXT NOT NULL DEFAULT '',
	accepted_at      TEXT,
	accepted_expires TEXT
) STRICT;

CREATE INDEX findings_resource ON findings (resource);
CREATE INDEX findings_system ON findings (system, status);
CREATE INDEX findings_status ON findings (status, severity_rank);
CREATE INDEX findings_family ON findings (family);
CREATE INDEX findings_due ON findings (due);

-- The history of each finding; seq orders events of one instant.
CREATE TABLE finding_events (
	seq           INTEGER PRIMARY KEY,
	fingerprint   TEXT NOT NULL REFERENCES findings (fingerprint),
	at            TEXT NOT NULL,
	run_id        TEXT REFERENCES runs (id), -- NULL for an acceptance
	change        TEXT NOT NULL,
	status_before TEXT NOT NULL DEFAULT '',  -- '' for a new finding
	status_after  TEXT NOT NULL,
	actor         TEXT NOT NULL DEFAULT '',
	note          TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX finding_events_fingerprint ON finding_events (fingerprint, at, seq);

-- When each resource is next due, and the lease of the server assessing it now. A resource
-- without a row has never been assessed and is due. RecordRun also takes the row's lock so
-- that runs of one resource fold one after another.
CREATE TABLE schedules (
	resource         TEXT NOT NULL PRIMARY KEY,
	next_due         TEXT NOT NULL,
	last_run         TEXT,
	cadence_seconds  INTEGER NOT NULL DEFAULT 0,
	reason           TEXT NOT NULL DEFAULT '',
	unreachable_runs INTEGER NOT NULL DEFAULT 0,
	clean_since      TEXT,
	lease_owner      TEXT,
	lease_until      TEXT
) STRICT;

CREATE INDEX schedules_next_due ON schedules (next_due);
