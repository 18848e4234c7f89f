package assess

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
)

// Inventory is what assessment reads of the inventory. inventory.Service and inventory.Store
// both provide it.
type Inventory interface {
	Org(ctx context.Context, code string) (inventory.Organization, error)
	System(ctx context.Context, id string) (inventory.System, error)
	Resource(ctx context.Context, id string) (inventory.Resource, error)
	Resources(ctx context.Context, f inventory.ResourceFilter) ([]inventory.Resource, int, error)
}

// Service assesses inventory resources on demand and for the Scheduler, keeps the results as
// findings, and answers questions about them. It only ever scans resources in scope, through
// the Scanner and so the scope guard. It is safe for concurrent use.
type Service struct {
	inv     Inventory
	store   Store
	scanner *Scanner
	catalog *check.Catalog
	now     func() time.Time
	log     *slog.Logger
	// memo is shared by the scheduled runs, each of which scans one resource: the names of a
	// zone due in one round (leased by this server's scheduler, or handed to this worker as
	// jobs) share one zone transfer per name server, as they would in one scan. It forgets
	// answers after SharedMemoTTL, so a later round looks again.
	memo *check.Memo
}

// SharedMemoTTL is how long the answers of one scheduled run serve the runs after it. A
// scheduling round leases and assesses its due resources within a few minutes; a run an
// operator asks for never uses answers from before it (see Service.assess).
const SharedMemoTTL = 5 * time.Minute

// sharedMemoSize bounds the answers the shared memo keeps (one per zone and name server
// address), whatever the size of a round.
const sharedMemoSize = 10_000

// NewService returns a Service. catalog gives each check's severity; now gives the current
// time (tests fix it); a nil log discards.
func NewService(inv Inventory, store Store, scanner *Scanner, catalog *check.Catalog, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{inv: inv, store: store, scanner: scanner, catalog: catalog, now: now,
		log: log.With("component", "assess"), memo: check.NewMemo(SharedMemoTTL, sharedMemoSize, now)}
}

// Request asks for one resource to be assessed.
type Request struct {
	Resource string // unified identifier; normalized here
	Trigger  Trigger
	// RunID, when set, names the run: a job delivered twice carries the same id, and a run
	// already recorded under it is returned without scanning again. Empty: a new id.
	RunID string
}

// AssessResource assesses one resource now and records the run: Assess without a run id.
func (s *Service) AssessResource(ctx context.Context, resourceID string, trigger Trigger) (RunSummary, error) {
	return s.Assess(ctx, Request{Resource: resourceID, Trigger: trigger})
}

// Assess assesses one resource now with every family that applies, records the run and its
// findings, and reschedules the resource from this run. A resource out of scope is refused
// with an error of kind OutOfScope saying why, and nothing is sent to it.
func (s *Service) Assess(ctx context.Context, req Request) (RunSummary, error) {
	if !req.Trigger.Valid() {
		return RunSummary{}, errs.Field("trigger", "%q is not one of schedule, manual", req.Trigger)
	}
	id, err := inventory.Normalize(req.Resource)
	if err != nil {
		return RunSummary{}, err
	}
	if req.RunID != "" {
		switch sum, err := s.store.Run(ctx, req.RunID); {
		case err == nil && sum.Resource != id:
			return RunSummary{}, errs.E(errs.Conflict, "run %q assessed %s, not %s", req.RunID, sum.Resource, id)
		case err == nil:
			return sum, nil
		case !errs.Is(err, errs.NotFound):
			return RunSummary{}, err
		}
	}
	r, err := s.inv.Resource(ctx, id)
	if err != nil {
		return RunSummary{}, err
	}
	sys, err := s.inv.System(ctx, r.System)
	if err != nil {
		return RunSummary{}, err
	}
	prev, err := s.store.Schedule(ctx, r.ID)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return RunSummary{}, err
	}
	return s.assess(ctx, req.RunID, r, sys.Level, req.Trigger, prev, "")
}

// assessDue assesses a resource the Scheduler leased as owner.
func (s *Service) assessDue(ctx context.Context, d Due, owner string) (RunSummary, error) {
	r, err := s.inv.Resource(ctx, d.Resource)
	if err != nil {
		return RunSummary{}, err
	}
	sys, err := s.inv.System(ctx, r.System)
	if err != nil {
		return RunSummary{}, err
	}
	return s.assess(ctx, "", r, sys.Level, TriggerSchedule, d.Schedule, owner)
}

// assess scans r, records the run and saves the next schedule, releasing owner's lease. A
// scheduled run shares what it asks (a zone transfer) with the other scheduled runs of the
// next few minutes (Service.memo); a run asked for on its own looks afresh, so that an
// operator who has just closed a zone transfer sees it closed.
func (s *Service) assess(ctx context.Context, runID string, r inventory.Resource, level int, trigger Trigger, prev Schedule, owner string) (RunSummary, error) {
	var memo *check.Memo
	if trigger == TriggerSchedule {
		memo = s.memo
	}
	return s.assessWith(ctx, memo, runID, r, level, trigger, prev, owner)
}

// assessWith is assess with the memo the scan shares answers through; nil: its own.
func (s *Service) assessWith(ctx context.Context, memo *check.Memo, runID string, r inventory.Resource, level int, trigger Trigger, prev Schedule, owner string) (RunSummary, error) {
	if err := s.authorize(r); err != nil {
		return RunSummary{}, err
	}
	started := s.now().UTC()
	if runID == "" {
		runID = newRunID(started)
	}
	results := s.scan(ctx, r, memo)
	if err := ctx.Err(); err != nil {
		// The families' errors are ours, not the host's: record nothing.
		return RunSummary{}, fmt.Errorf("assess %s: %w", r.ID, err)
	}
	run := Run{ID: runID, Resource: r.ID, System: r.System, Trigger: trigger, Status: runStatus(results),
		Started: started, Finished: s.now().UTC()}
	sum, err := s.store.RecordRun(ctx, run, results, s.severities(results))
	if err != nil {
		return RunSummary{}, fmt.Errorf("record run of %s: %w", r.ID, err)
	}
	c := sum.Counts
	s.log.Info("run done", "run_id", sum.ID, "resource", sum.Resource, "system_id", sum.System,
		"trigger", string(sum.Trigger), "status", string(sum.Status), "fail", c.Fail, "error", c.Error,
		"new", c.New, "resolved", c.Resolved, "reopened", c.Reopened, "open", c.Open)
	next := nextSchedule(prev, level, sum)
	if err := s.store.SaveSchedule(ctx, next, owner); err != nil {
		// The run is recorded; without its schedule the resource is merely due again.
		s.log.Warn("schedule not saved", "resource", r.ID, "run_id", sum.ID, "err", err)
	}
	return sum, nil
}

// scan assesses r with the scanner, sharing answers through memo (nil: a memo of its own).
func (s *Service) scan(ctx context.Context, r inventory.Resource, memo *check.Memo) []check.Result {
	if memo == nil {
		return s.scanner.ScanOne(ctx, r)
	}
	base := s.scanner.Env
	base.Memo = memo
	return s.scanner.scanOne(ctx, r, base)
}

// authorize refuses a resource the server may not scan at all, with the guard's reason.
func (s *Service) authorize(r inventory.Resource) error {
	if r.Scannable() {
		return nil
	}
	if s.scanner != nil && s.scanner.Guard != nil {
		if err := s.scanner.Guard.Authorize(r, scope.Passive); err != nil {
			return err
		}
	}
	return errs.E(errs.OutOfScope, "%s is %s: verify its ownership or have an administrator assign it before it is scanned", r.ID, r.Scope)
}

// runStatus is RunUnreachable when every result the families were allowed to observe for is
// an error. Refusals by the scope guard (see refused) are not observations.
func runStatus(results []check.Result) RunStatus {
	observed, failed := 0, 0
	for _, r := range results {
		if _, refusal := r.Evidence["out_of_scope"]; refusal && r.Status == check.Error {
			continue
		}
		observed++
		if r.Status == check.Error {
			failed++
		}
	}
	if observed > 0 && failed == observed {
		return RunUnreachable
	}
	return RunComplete
}

// severities looks up the severity of each check in results. A check missing from the
// catalog is a bug in its family; it is recorded as medium rather than dropped.
func (s *Service) severities(results []check.Result) map[string]check.Severity {
	m := make(map[string]check.Severity)
	for _, r := range results {
		if _, ok := m[r.Check]; ok {
			continue
		}
		sev := check.Medium
		if d, ok := s.lookup(r.Check); ok {
			sev = d.Severity
		} else {
			s.log.Warn("check not in the catalog; recorded as medium", "check_id", r.Check)
		}
		m[r.Check] = sev
	}
	return m
}

func (s *Service) lookup(id string) (check.Def, bool) {
	if s.catalog == nil {
		return check.Def{}, false
	}
	return s.catalog.Def(id)
}

// newRunID returns an id that sorts by start time and does not collide between servers.
func newRunID(started time.Time) string {
	return started.UTC().Format("20060102T150405Z") + "-" + strings.ToLower(rand.Text()[:12])
}

// Outcome is what became of one resource of a system or organization assessment.
type Outcome struct {
	Resource string
	Summary  RunSummary // zero when Err is set
	Err      error      // OutOfScope for a resource that may not be scanned
}

// AssessSystem assesses every resource of a system, in scope ones only, Scanner.Concurrency
// at a time; the others are reported with an OutOfScope error. Outcomes are by resource id.
func (s *Service) AssessSystem(ctx context.Context, systemID string, trigger Trigger) ([]Outcome, error) {
	if !trigger.Valid() {
		return nil, errs.Field("trigger", "%q is not one of schedule, manual", trigger)
	}
	sys, err := s.inv.System(ctx, systemID)
	if err != nil {
		return nil, err
	}
	rs, err := s.resources(ctx, inventory.ResourceFilter{System: sys.ID})
	if err != nil {
		return nil, err
	}
	return s.assessMany(ctx, rs, map[string]int{sys.ID: sys.Level}, trigger)
}

// AssessOrg assesses every resource of the systems of an organization's subtree, as
// AssessSystem does.
func (s *Service) AssessOrg(ctx context.Context, code string, trigger Trigger) ([]Outcome, error) {
	if !trigger.Valid() {
		return nil, errs.Field("trigger", "%q is not one of schedule, manual", trigger)
	}
	if _, err := s.inv.Org(ctx, code); err != nil {
		return nil, err
	}
	rs, err := s.resources(ctx, inventory.ResourceFilter{Under: code})
	if err != nil {
		return nil, err
	}
	levels := map[string]int{}
	for _, r := range rs {
		if _, ok := levels[r.System]; ok {
			continue
		}
		sys, err := s.inv.System(ctx, r.System)
		if err != nil {
			return nil, err
		}
		levels[r.System] = sys.Level
	}
	return s.assessMany(ctx, rs, levels, trigger)
}

// resources reads every resource f selects, page by page.
func (s *Service) resources(ctx context.Context, f inventory.ResourceFilter) ([]inventory.Resource, error) {
	const page = 1000
	var all []inventory.Resource
	for {
		f.Page = inventory.Page{Limit: page, Offset: len(all)}
		rs, total, err := s.inv.Resources(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
		if len(rs) < page || len(all) >= total {
			return all, nil
		}
	}
}

// assessMany assesses rs as one scan would: their runs share one memo (a zone's names, one
// zone transfer), the Service's when they are scheduled, one of their own otherwise.
func (s *Service) assessMany(ctx context.Context, rs []inventory.Resource, levels map[string]int, trigger Trigger) ([]Outcome, error) {
	memo := s.memo
	if trigger != TriggerSchedule {
		memo = new(check.Memo)
	}
	out := make([]Outcome, len(rs))
	forEach(ctx, s.concurrency(), len(rs), func(i int) {
		r := rs[i]
		out[i].Resource = r.ID
		if err := s.authorize(r); err != nil {
			out[i].Err = err
			return
		}
		prev, err := s.store.Schedule(ctx, r.ID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			out[i].Err = err
			return
		}
		out[i].Summary, out[i].Err = s.assessWith(ctx, memo, "", r, levels[r.System], trigger, prev, "")
	})
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}

func (s *Service) concurrency() int {
	if s.scanner != nil && s.scanner.Concurrency > 0 {
		return s.scanner.Concurrency
	}
	return 64
}

// forEach calls fn(0) … fn(n-1), at most limit at a time, and returns when all are done.
// Once ctx is done no more are started.
func forEach(ctx context.Context, limit, n int, fn func(i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// Findings lists findings as they stand now (or at f.At, when set).
func (s *Service) Findings(ctx context.Context, f FindingFilter) ([]finding.Finding, int, error) {
	if f.At.IsZero() {
		f.At = s.now().UTC()
	}
	f.Page = f.Page.Bounded()
	return s.store.Findings(ctx, f)
}

// Finding returns one finding as it stands now.
func (s *Service) Finding(ctx context.Context, fingerprint string) (finding.Finding, error) {
	f, err := s.store.Finding(ctx, fingerprint)
	if err != nil {
		return finding.Finding{}, err
	}
	return f.Effective(s.now().UTC()), nil
}

// FindingHistory returns a finding's events, oldest first.
func (s *Service) FindingHistory(ctx context.Context, fingerprint string) ([]Event, error) {
	return s.store.FindingHistory(ctx, fingerprint)
}

// Accept records that approver accepts the risk of a finding for reason until expires (at
// most a year; see finding.Accept).
func (s *Service) Accept(ctx context.Context, fingerprint, approver, reason string, expires time.Time) (finding.Finding, error) {
	a := finding.Acceptance{By: strings.TrimSpace(approver), Reason: strings.TrimSpace(reason),
		At: s.now().UTC(), Expires: expires.UTC()}
	return s.store.AcceptFinding(ctx, fingerprint, a)
}

// Run returns one run.
func (s *Service) Run(ctx context.Context, id string) (RunSummary, error) {
	return s.store.Run(ctx, id)
}

// Runs returns the latest runs of a resource, newest first.
func (s *Service) Runs(ctx context.Context, resourceID string, limit int) ([]RunSummary, error) {
	id, err := inventory.Normalize(resourceID)
	if err != nil {
		return nil, err
	}
	return s.store.Runs(ctx, id, limit)
}

// RunResults returns every result of a run, in catalog order.
func (s *Service) RunResults(ctx context.Context, runID string) ([]check.Result, error) {
	rs, err := s.store.RunResults(ctx, runID)
	if err != nil {
		return nil, err
	}
	if s.scanner != nil {
		sortResults(rs, s.scanner.Families)
	}
	return rs, nil
}

// PruneResults removes the per-check results of runs finished more than retain ago, keeping
// run counts, findings and their history, each resource's latest run and every run a finding
// points to (see Store.PruneResults). It logs what it removed.
func (s *Service) PruneResults(ctx context.Context, retain time.Duration) (Pruned, error) {
	if retain <= 0 {
		return Pruned{}, errs.Field("retain", "must be positive, not %s", retain)
	}
	before := s.now().UTC().Add(-retain)
	p, err := s.store.PruneResults(ctx, before)
	if p.Runs > 0 || err != nil {
		s.log.Info("pruned old results", "before", before.Format(time.RFC3339), "runs", p.Runs, "results", p.Results, "err", err)
	}
	return p, err
}

// Schedule returns when a resource is next assessed, and why.
func (s *Service) Schedule(ctx context.Context, resourceID string) (Schedule, error) {
	id, err := inventory.Normalize(resourceID)
	if err != nil {
		return Schedule{}, err
	}
	return s.store.Schedule(ctx, id)
}

// DefaultDiffWindow is how far back a diff of a system or organization looks when no start
// is given.
const DefaultDiffWindow = 24 * time.Hour

// Diff says what is new, reopened, resolved and persisting in a scope between two points.
// With a resource and no ends, it compares the resource's last two runs (its only run with
// before anything). Otherwise a missing end is now, and a missing start DefaultDiffWindow
// before the end. Findings are given as they stand now.
func (s *Service) Diff(ctx context.Context, q DiffQuery) (Diff, error) {
	now := s.now().UTC()
	if q.Resource != "" {
		id, err := inventory.Normalize(q.Resource)
		if err != nil {
			return Diff{}, err
		}
		q.Resource = id
	}
	noEnds := q.FromRun == "" && q.ToRun == "" && q.From.IsZero() && q.To.IsZero()
	switch {
	case q.Resource != "" && noEnds:
		runs, err := s.store.Runs(ctx, q.Resource, 2)
		if err != nil {
			return Diff{}, err
		}
		switch len(runs) {
		case 0:
			return Diff{To: now}, nil
		case 2:
			q.FromRun = runs[1].ID
		}
		q.ToRun = runs[0].ID
	default:
		if q.To.IsZero() && q.ToRun == "" {
			q.To = now
		}
		if q.From.IsZero() && q.FromRun == "" && !q.To.IsZero() {
			q.From = q.To.Add(-DefaultDiffWindow)
		}
	}
	d, err := s.store.Diff(ctx, q)
	if err != nil {
		return Diff{}, err
	}
	for _, l := range [][]finding.Finding{d.New, d.Reopened, d.Resolved, d.Persisting} {
		for i := range l {
			l[i] = l[i].Effective(now)
		}
	}
	return d, nil
}
