package assess

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/queue"
)

// JobKind is the kind of the queue jobs that assess one resource.
const JobKind = "assess.resource"

// jobPayload is the payload of a JobKind job (JSON; new fields are optional).
type jobPayload struct {
	Resource string  `json:"resource"`
	Trigger  Trigger `json:"trigger"`
	RunID    string  `json:"run_id"`
	// LeaseOwner is the scheduler that leased the resource; the worker releases its lease
	// when it saves the next schedule.
	LeaseOwner string `json:"lease_owner,omitempty"`
}

// SlotRunID returns the id of the scheduled run of resource in its slot due at due. Every
// server and every delivery of the slot's job computes the same id, so the store records the
// slot once (RecordRun is idempotent by run id). Like other run ids it sorts by time.
func SlotRunID(resource string, due time.Time) string {
	due = due.UTC()
	sum := sha256.Sum256([]byte(resource + "\n" + due.Format(time.RFC3339Nano)))
	return due.Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:6])
}

// DueJob returns the job that assesses a resource owner leased, in the slot it was due in;
// its key is the slot's run id.
func DueJob(d Due, owner string) queue.Job {
	p := jobPayload{Resource: d.Resource, Trigger: TriggerSchedule, RunID: SlotRunID(d.Resource, d.Schedule.NextDue), LeaseOwner: owner}
	b, _ := json.Marshal(p) // strings only: cannot fail
	return queue.Job{Kind: JobKind, Key: p.RunID, Payload: b}
}

// jobRetryFor is how long a job whose store calls fail (the database is away) is retried in
// place, holding its delivery, before it is handed back to the queue as failed.
const jobRetryFor = 10 * time.Minute

// jobTimeout bounds one attempt at a job, as the in-process Scheduler bounds an assessment by
// its lease: a family that hangs past its own timeouts gives the worker back its slot.
const jobTimeout = 15 * time.Minute

// HandleJob is the queue.Handler of JobKind jobs: it assesses the job's resource under the
// job's run id, records the run and saves when the resource is next due, releasing the
// scheduler's lease. It is idempotent: a job delivered again after its run was recorded
// records nothing new, and only completes what the first delivery may have left undone
// (saving the schedule).
//
// While the store cannot be reached it retries with a back-off, up to 10 minutes, and keeps
// the job (no acknowledgement); the queue redelivers it if the worker dies meanwhile. A job
// that cannot succeed (malformed, the resource gone or out of scope) fails permanently; one
// that runs past 15 minutes fails, to be retried.
func (s *Service) HandleJob(ctx context.Context, j queue.Job) error {
	var p jobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.Resource == "" || p.RunID == "" || !p.Trigger.Valid() {
		return queue.Permanent(fmt.Errorf("assessment job %q: malformed payload %.200q", j.Key, j.Payload))
	}
	began := time.Now()
	jctx, cancel := context.WithTimeout(ctx, jobTimeout)
	defer cancel()
	for try := 1; ; try++ {
		err := s.runJob(jctx, p)
		switch {
		case err == nil:
			return nil
		case errs.KindOf(err) != errs.Internal:
			return queue.Permanent(err)
		case jctx.Err() != nil, time.Since(began) >= jobRetryFor:
			return err
		}
		wait := min(time.Second<<min(try-1, 5), 30*time.Second)
		s.log.Warn("assessment job failed; retrying", "job_key", j.Key, "resource", p.Resource, "try", try,
			"retry_in", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-jctx.Done():
			t.Stop()
			return err
		}
	}
}

// runJob assesses p.Resource under p.RunID, or completes a run recorded before.
func (s *Service) runJob(ctx context.Context, p jobPayload) error {
	id, err := inventory.Normalize(p.Resource)
	if err != nil {
		return err
	}
	switch sum, err := s.store.Run(ctx, p.RunID); {
	case err == nil && sum.Resource != id:
		return errs.E(errs.Conflict, "run %q assessed %s, not %s", p.RunID, sum.Resource, id)
	case err == nil:
		return s.plan(ctx, sum, p.LeaseOwner)
	case !errs.Is(err, errs.NotFound):
		return err
	}
	r, err := s.inv.Resource(ctx, id)
	if err != nil {
		return err
	}
	sys, err := s.inv.System(ctx, r.System)
	if err != nil {
		return err
	}
	prev, err := s.store.Schedule(ctx, r.ID)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	_, err = s.assess(ctx, p.RunID, r, sys.Level, p.Trigger, prev, p.LeaseOwner)
	return err
}

// plan saves the schedule that follows a recorded run, unless it was saved already (the
// schedule's last run is this one or a later one), releasing owner's lease.
func (s *Service) plan(ctx context.Context, sum RunSummary, owner string) error {
	prev, err := s.store.Schedule(ctx, sum.Resource)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	if !prev.LastRun.Before(sum.Finished) {
		return nil
	}
	r, err := s.inv.Resource(ctx, sum.Resource)
	if err != nil {
		return err
	}
	sys, err := s.inv.System(ctx, r.System)
	if err != nil {
		return err
	}
	return s.store.SaveSchedule(ctx, nextSchedule(prev, sys.Level, sum), owner)
}
