-- Assessment: runs of the check families over a resource, every result of each run, the
-- findings those results fold into with their history, and when each resource is next due.
-- Runs, results and findings refer to resources and systems by identifier without a foreign
-- key: the record of what was seen outlives changes to the inventory. Keys and the columns
-- listings sort by use the "C" collation, as in 0001, so that order is SQLite's byte order.

CREATE TABLE runs (
	id                text COLLATE "C" PRIMARY KEY,
	resource          text COLLATE "C" NOT NULL,
	system            text COLLATE "C" NOT NULL,
	triggered_by      text NOT NULL CHECK (triggered_by IN ('schedule', 'manual')),
	status            text NOT NULL CHECK (status IN ('complete', 'unreachable')),
	started           timestamptz NOT NULL,
	finished          timestamptz NOT NULL,
	-- assess.Counts
	n_pass            integer NOT NULL DEFAULT 0,
	n_fail            integer NOT NULL DEFAULT 0,
	n_error           integer NOT NULL DEFAULT 0,
	n_not_applicable  integer NOT NULL DEFAULT 0,
	n_new             integer NOT NULL DEFAULT 0,
	n_resolved        integer NOT NULL DEFAULT 0,
	n_reopened        integer NOT NULL DEFAULT 0,
	n_persisting      integer NOT NULL DEFAULT 0,
	n_open            integer NOT NULL DEFAULT 0,
	n_open_critical   integer NOT NULL DEFAULT 0,
	n_known_exploited integer NOT NULL DEFAULT 0
);

CREATE INDEX runs_resource ON runs (resource, started);

-- Every result of every run, passes included: the index needs to know which checks applied,
-- and a finding's history is read from them.
CREATE TABLE results (
	run_id    text COLLATE "C" NOT NULL REFERENCES runs (id),
	resource  text COLLATE "C" NOT NULL,
	check_id  text COLLATE "C" NOT NULL,
	endpoint  text COLLATE "C" NOT NULL,
	status    text NOT NULL CHECK (status IN ('pass', 'fail', 'error', 'not_applicable')),
	reason_vi text NOT NULL DEFAULT '',
	reason_en text NOT NULL DEFAULT '',
	evidence  text NOT NULL DEFAULT '', -- a JSON object, or '' for none
	at        timestamptz NOT NULL,
	PRIMARY KEY (run_id, check_id, endpoint)
);

CREATE INDEX results_resource ON results (resource, check_id, endpoint);

-- One row per check on one endpoint of one resource, keyed by finding.Fingerprint. family,
-- system, severity_rank and due repeat what can be worked out, so that listings filter and
-- sort with plain comparisons; due is when an open finding becomes overdue (for an accepted
-- one, when it would once its acceptance expires), NULL when it has no deadline or is fixed.
CREATE TABLE findings (
	fingerprint      text COLLATE "C" PRIMARY KEY,
	check_id         text COLLATE "C" NOT NULL,
	family           text COLLATE "C" NOT NULL,
	resource         text COLLATE "C" NOT NULL,
	system           text COLLATE "C" NOT NULL,
	endpoint         text COLLATE "C" NOT NULL,
	severity         text NOT NULL,
	severity_rank    integer NOT NULL,
	status           text NOT NULL CHECK (status IN ('open', 'fixed', 'reopened', 'accepted')),
	last_result      text NOT NULL,
	reason_vi        text NOT NULL DEFAULT '',
	reason_en        text NOT NULL DEFAULT '',
	evidence         text NOT NULL DEFAULT '',
	first_seen       timestamptz NOT NULL,
	last_seen        timestamptz NOT NULL,
	opened_at        timestamptz NOT NULL,
	fixed_at         timestamptz,
	due              timestamptz,
	reopens          integer NOT NULL DEFAULT 0,
	run_id           text COLLATE "C" NOT NULL REFERENCES runs (id),
	accepted_by      text NOT NULL DEFAULT '',
	accepted_reason  text NOT NULL DEFAULT '',
	accepted_at      timestamptz,
	accepted_expires timestamptz
);

CREATE INDEX findings_resource ON findings (resource);
CREATE INDEX findings_system ON findings (system, status);
CREATE INDEX findings_status ON findings (status, severity_rank);
CREATE INDEX findings_family ON findings (family);
CREATE INDEX findings_due ON findings (due);

-- The history of each finding; seq orders events of one instant.
CREATE TABLE finding_events (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	fingerprint   text COLLATE "C" NOT NULL REFERENCES findings (fingerprint),
	at            timestamptz NOT NULL,
	run_id        text COLLATE "C" REFERENCES runs (id), -- NULL for an acceptance
	change        text NOT NULL,
	status_before text NOT NULL DEFAULT '',              -- '' for a new finding
	status_after  text NOT NULL,
	actor         text NOT NULL DEFAULT '',
	note          text NOT NULL DEFAULT ''
);

CREATE INDEX finding_events_fingerprint ON finding_events (fingerprint, at, seq);

-- When each resource is next due, and the lease of the server assessing it now. A resource
-- without a row has never been assessed and is due. RecordRun also takes the row's lock so
-- that runs of one resource fold one after another.
CREATE TABLE schedules (
	resource         text COLLATE "C" PRIMARY KEY,
	next_due         timestamptz NOT NULL,
	last_run         timestamptz,
	cadence_seconds  bigint NOT NULL DEFAULT 0,
	reason           text NOT NULL DEFAULT '',
	unreachable_runs integer NOT NULL DEFAULT 0,
	clean_since      timestamptz,
	lease_owner      text,
	lease_until      timestamptz
);

CREATE INDEX schedules_next_due ON schedules (next_due);
