-- The inventory: organizations as a tree, their systems, the resources of each system.
-- Keys use the "C" collation so that ORDER BY sorts by bytes, as SQLite does, whatever the
-- database's locale. Keys are text, not sequences, so rows move between backends unchanged.

CREATE TABLE organizations (
	code         text COLLATE "C" PRIMARY KEY,
	name         text NOT NULL,
	level        text NOT NULL,
	parent       text COLLATE "C" REFERENCES organizations (code) ON DELETE RESTRICT,
	head_name    text NOT NULL DEFAULT '',
	head_title   text NOT NULL DEFAULT '',
	head_contact text NOT NULL DEFAULT '',
	created      timestamptz NOT NULL,
	updated      timestamptz NOT NULL
);

CREATE INDEX organizations_parent ON organizations (parent);

CREATE TABLE systems (
	id             text COLLATE "C" PRIMARY KEY,
	org            text COLLATE "C" NOT NULL REFERENCES organizations (code) ON DELETE RESTRICT,
	name           text NOT NULL,
	purpose        text NOT NULL DEFAULT '',
	level          integer NOT NULL CHECK (level BETWEEN 1 AND 5),
	level_approved boolean NOT NULL DEFAULT false,
	stage          text NOT NULL,
	data_classes   text NOT NULL DEFAULT '', -- comma-separated inventory.DataClass values
	operator       text NOT NULL DEFAULT '',
	created        timestamptz NOT NULL,
	updated        timestamptz NOT NULL
);

CREATE INDEX systems_org ON systems (org);

CREATE TABLE resources (
	id           text COLLATE "C" PRIMARY KEY, -- normalized unified identifier, "dns:…"
	system       text COLLATE "C" NOT NULL REFERENCES systems (id) ON DELETE RESTRICT,
	kind         text NOT NULL,                -- the identifier's prefix, for filtering
	scope        text NOT NULL,
	scope_reason text NOT NULL DEFAULT '',
	verify_token text NOT NULL DEFAULT '',
	verified_at  timestamptz,
	created      timestamptz NOT NULL,
	updated      timestamptz NOT NULL
);

CREATE INDEX resources_system ON resources (system);
