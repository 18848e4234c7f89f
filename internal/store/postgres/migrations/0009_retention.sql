-- Indexes for pruning old results (khien serve --retain-results): runs by when they finished,
-- and findings by the run they were last folded from, so that each pruning batch finds its
-- runs without reading every run and every finding.

CREATE INDEX runs_finished ON runs (finished);
CREATE INDEX findings_run ON findings (run_id);
