-- The inventory: organizations as a tree, their systems, the resources of each system.
-- Times are RFC 3339 text in UTC with six fractional digits, so text order is time order.
-- Keys are text, not sequences, so rows move between SQLite and PostgreSQL unchanged.

CREATE TABLE organizations (
	code         TEXT NOT NULL PRIMARY KEY,
	name         TEXT NOT NULL,
	level        TEXT NOT NULL,
	parent       TEXT REFERENCES organizations (code) ON DELETE RESTRICT,
	head_name    TEXT NOT NULL DEFAULT '',
	head_title   TEXT NOT NULL DEFAULT '',
	head_contact TEXT NOT NULL DEFAULT '',
	created      TEXT NOT NULL,
	updated      TEXT NOT NULL
) STRICT;

CREATE INDEX organizations_parent ON organizations (parent);

CREATE TABLE systems (
	id             TEXT NOT NULL PRIMARY KEY,
	org            TEXT NOT NULL REFERENCES organizations (code) ON DELETE RESTRICT,
	name           TEXT NOT NULL,
	purpose        TEXT NOT NULL DEFAULT '',
	level          INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
	level_approved INTEGER NOT NULL DEFAULT 0 CHECK (level_approved IN (0, 1)),
	stage          TEXT NOT NULL,
	data_classes   TEXT NOT NULL DEFAULT '', -- comma-separated inventory.DataClass values
	operator       TEXT NOT NULL DEFAULT '',
	created        TEXT NOT NULL,
	updated        TEXT NOT NULL
) STRICT;

CREATE INDEX systems_org ON systems (org);

CREATE TABLE resources (
	id           TEXT NOT NULL PRIMARY KEY, -- normalized unified identifier, "dns:…"
	system       TEXT NOT NULL REFERENCES systems (id) ON DELETE RESTRICT,
	kind         TEXT NOT NULL,             -- the identifier's prefix, for filtering
	scope        TEXT NOT NULL,
	scope_reason TEXT NOT NULL DEFAULT '',
	verify_token TEXT NOT NULL DEFAULT '',
	verified_at  TEXT,
	created      TEXT NOT NULL,
	updated      TEXT NOT NULL
) STRICT;

CREATE INDEX resources_system ON resources (system);
