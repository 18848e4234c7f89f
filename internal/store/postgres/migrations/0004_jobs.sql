-- The local job queue (queue/local): jobs waiting to run, running under a worker's lease, or
-- set aside as dead. A job that is done is deleted. A lease that runs out (its worker was
-- killed) makes the job ready again, so no job is lost with a process.
CREATE TABLE jobs (
	id          text COLLATE "C" PRIMARY KEY,
	kind        text COLLATE "C" NOT NULL,
	job_key     text COLLATE "C" NOT NULL,
	payload     bytea NOT NULL,
	state       text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'dead')),
	attempts    integer NOT NULL DEFAULT 0,
	ready_at    timestamptz NOT NULL,
	lease_owner text,
	lease_until timestamptz,
	reason      text NOT NULL DEFAULT '', -- the last failure
	enqueued    timestamptz NOT NULL,
	dead_at     timestamptz
);

-- One waiting (or running) job per kind and key: enqueueing it again is a no-op.
CREATE UNIQUE INDEX jobs_waiting ON jobs (kind, job_key) WHERE state = 'ready';
CREATE INDEX jobs_ready ON jobs (state, ready_at);
