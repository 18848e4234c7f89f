-- The local job queue (queue/local): jobs waiting to run, running under a worker's lease, or
-- set aside as dead. A job that is done is deleted. A lease that runs out (its worker was
-- killed) makes the job ready again, so no job is lost with a process.
CREATE TABLE jobs (
	id          TEXT NOT NULL PRIMARY KEY,
	kind        TEXT NOT NULL,
	job_key     TEXT NOT NULL,
	payload     BLOB NOT NULL,
	state       TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'dead')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	ready_at    TEXT NOT NULL,
	lease_owner TEXT,
	lease_until TEXT,
	reason      TEXT NOT NULL DEFAULT '', -- the last failure
	enqueued    TEXT NOT NULL,
	dead_at     TEXT
) STRICT;

-- One waiting (or running) job per kind and key: enqueueing it again is a no-op.
CREATE UNIQUE INDEX jobs_waiting ON jobs (kind, job_key) WHERE state = 'ready';
CREATE INDEX jobs_ready ON jobs (state, ready_at);
