package assurance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// Inventory is what the service reads of the inventory; inventory.Store provides it.
type Inventory interface {
	Snapshot(ctx context.Context) (inventory.Inventory, error)
	Org(ctx context.Context, code string) (inventory.Organization, error)
	System(ctx context.Context, id string) (inventory.System, error)
	Resources(ctx context.Context, f inventory.ResourceFilter) ([]inventory.Resource, int, error)
}

// Service records the assurance facts, computes and snapshots the index, and decides gate
// requests. It is safe for concurrent use.
type Service struct {
	store    Store
	inv      Inventory
	assess   assess.Store
	checks   *check.Catalog
	catalog  *control.Catalog
	controls []control.Control
	now      func() time.Time
}

// NewService returns a Service over its store, the inventory and the assessments. now gives
// the current time (tests fix it).
func NewService(st Store, inv Inventory, as assess.Store, now func() time.Time) (*Service, error) {
	checks, err := check.LoadCatalog()
	if err != nil {
		return nil, err
	}
	cat, err := control.Load()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, inv: inv, assess: as, checks: checks, catalog: cat, controls: cat.Controls,
		now: func() time.Time { return now().UTC() }}, nil
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Catalog is the control catalog in force.
func (s *Service) Catalog() *control.Catalog { return s.catalog }

func newID(prefix string) string { return prefix + strings.ToLower(rand.Text()[:12]) }

// Day is the UTC calendar day of t, as snapshots are keyed.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Methods returns the index methods: the embedded default and those stored.
func (s *Service) Methods(ctx context.Context) ([]index.Method, error) {
	ms := []index.Method{index.DefaultMethod()}
	stored, err := s.store.Methods(ctx)
	if err != nil {
		return nil, err
	}
	for _, y := range stored {
		m, err := index.ParseMethod(y)
		if err != nil {
			return nil, fmt.Errorf("stored index method: %w", err)
		}
		ms = slices.DeleteFunc(ms, func(o index.Method) bool { return o.ID == m.ID })
		ms = append(ms, m)
	}
	return ms, nil
}

// ScheduleMethod stores a method (its YAML) to apply from its effective_from.
func (s *Service) ScheduleMethod(ctx context.Context, yaml []byte) (index.Method, error) {
	m, err := index.ParseMethod(yaml)
	if err != nil {
		return index.Method{}, errs.Field("method", "%v", err)
	}
	return m, s.store.PutMethod(ctx, m.ID, m.EffectiveFrom, yaml, s.now())
}

// Answer is the index of one organization at one time, with the result of the whole tree it
// was computed in and, for a stored day, whether recomputing it gave the stored figure.
type Answer struct {
	Org    index.OrgResult
	Result index.Result
	// Stored is set when the answer is a day's stored snapshot, recomputed from its stored
	// Input; Verified then says whether the recomputation equals the stored result byte for
	// byte, and Mismatch how it differs if not.
	Stored   bool
	Verified bool
	Mismatch string
	// Future is the organization's index under the next scheduled method, if there is one.
	Future *index.OrgResult
	// Input is what the result was computed from.
	Input index.Input
}

// Index computes org's index now.
func (s *Service) Index(ctx context.Context, org string) (Answer, error) {
	if _, err := s.inv.Org(ctx, org); err != nil {
		return Answer{}, err
	}
	at := s.now()
	in, err := s.Input(ctx, at)
	if err != nil {
		return Answer{}, err
	}
	methods, err := s.Methods(ctx)
	if err != nil {
		return Answer{}, err
	}
	var (
		cur index.Result
		fut *index.Result
	)
	if _, ok := index.MethodAt(methods, at); ok {
		if cur, fut, err = index.Outlook(in, methods, at); err != nil {
			return Answer{}, err
		}
	} else {
		// Before the first method takes effect, the index is shown under the earliest one.
		cur = index.Compute(in, earliest(methods), at)
	}
	o, ok := cur.Org(org)
	if !ok {
		return Answer{}, errs.E(errs.NotFound, "organization %q has no index", org)
	}
	a := Answer{Org: *o, Result: cur, Input: in}
	if fut != nil {
		if fo, ok := fut.Org(org); ok {
			a.Future = fo
		}
	}
	return a, nil
}

// IndexAt returns org's index of day (YYYY-MM-DD): the stored snapshot recomputed from its
// stored Input under its stored method and compared with the stored result; without a
// snapshot of that day, errs.NotFound (today's is computed by Index).
func (s *Service) IndexAt(ctx context.Context, org, day string) (Answer, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return Answer{}, errs.Field("at", "%q is not a date YYYY-MM-DD", day)
	}
	if _, err := s.inv.Org(ctx, org); err != nil {
		return Answer{}, err
	}
	snap, err := s.store.IndexSnapshot(ctx, org, day)
	if err != nil {
		return Answer{}, err
	}
	var in index.Input
	if err := json.Unmarshal(snap.Input, &in); err != nil {
		return Answer{}, fmt.Errorf("stored input of %s: %w", day, err)
	}
	methods, err := s.Methods(ctx)
	if err != nil {
		return Answer{}, err
	}
	i := slices.IndexFunc(methods, func(m index.Method) bool { return m.ID == snap.Method })
	if i < 0 {
		return Answer{}, errs.E(errs.Internal, "the index of %s was computed under method %s, which is no longer stored", day, snap.Method)
	}
	res := index.Compute(in, methods[i], snap.AsOf)
	o, ok := res.Org(org)
	if !ok {
		return Answer{Stored: true, Mismatch: "the recomputation has no result for " + org}, nil
	}
	got, err := json.Marshal(o)
	if err != nil {
		return Answer{}, err
	}
	a := Answer{Org: *o, Result: res, Input: in, Stored: true, Verified: bytes.Equal(got, snap.Orgs[0].Result)}
	if !a.Verified {
		var stored index.OrgResult
		_ = json.Unmarshal(snap.Orgs[0].Result, &stored)
		a.Mismatch = fmt.Sprintf("stored index %v (%d tenths), recomputed %v (%d tenths)", stored.Index, stored.Tenths, o.Index, o.Tenths)
		if stored.Index == o.Index {
			a.Mismatch = "the figure is the same but the explanation differs"
		}
	}
	return a, nil
}

// History returns org's stored daily figures from..to (YYYY-MM-DD, inclusive).
func (s *Service) History(ctx context.Context, org, from, to string) ([]HistoryPoint, error) {
	for _, d := range []struct{ field, v string }{{"from", from}, {"to", to}} {
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return nil, errs.Field(d.field, "%q is not a date YYYY-MM-DD", d.v)
		}
	}
	if _, err := s.inv.Org(ctx, org); err != nil {
		return nil, err
	}
	h, err := s.store.History(ctx, org, from, to)
	if h == nil && err == nil {
		h = []HistoryPoint{}
	}
	return h, err
}

// Snapshot computes the index of every organization at asOf and stores it as the snapshot of
// asOf's day, with the Input it used. The result is computed from the Input as stored (after
// JSON), so that recomputing the day later starts from exactly what this computation read.
func (s *Service) Snapshot(ctx context.Context, asOf time.Time) (DaySnapshot, error) {
	asOf = asOf.UTC()
	in, err := s.Input(ctx, asOf)
	if err != nil {
		return DaySnapshot{}, err
	}
	methods, err := s.Methods(ctx)
	if err != nil {
		return DaySnapshot{}, err
	}
	m, ok := index.MethodAt(methods, asOf)
	if !ok {
		m = earliest(methods)
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return DaySnapshot{}, err
	}
	var stored index.Input
	if err := json.Unmarshal(raw, &stored); err != nil {
		return DaySnapshot{}, err
	}
	res := index.Compute(stored, m, asOf)
	d := DaySnapshot{Day: Day(asOf), AsOf: asOf, Method: m.ID, Input: raw}
	for i := range res.Orgs {
		o := &res.Orgs[i]
		b, err := json.Marshal(o)
		if err != nil {
			return DaySnapshot{}, err
		}
		d.Orgs = append(d.Orgs, OrgSnapshot{Org: o.Org, Tenths: o.Tenths, Grade: o.Grade, Result: b})
	}
	return d, s.store.PutSnapshot(ctx, d)
}

// File is an uploaded evidence file.
type File struct {
	Name    string
	Content []byte
}

// MaxEvidence is the largest evidence file accepted.
const MaxEvidence = 20 << 20

// Declare records an attestation with its evidence files, stored by content address. Its id,
// declaration time and validity default to a new id, now, and the control's validity from now.
func (s *Service) Declare(ctx context.Context, a control.Attestation, files []File) (control.Attestation, error) {
	c, ok := s.catalog.Control(a.Control)
	if !ok {
		return control.Attestation{}, errs.Field("control", "%q is not a control of the catalog", a.Control)
	}
	now := s.now()
	level := 1
	switch {
	case a.System != "":
		sys, err := s.inv.System(ctx, a.System)
		if err != nil {
			return control.Attestation{}, err
		}
		level = sys.Level
	case a.Org != "":
		if _, err := s.inv.Org(ctx, a.Org); err != nil {
			return control.Attestation{}, err
		}
	}
	if a.ID == "" {
		a.ID = newID("att-")
	}
	if a.DeclaredAt.IsZero() {
		a.DeclaredAt = now
	}
	if a.ValidFrom.IsZero() {
		a.ValidFrom = a.DeclaredAt
	}
	if a.ValidUntil.IsZero() {
		a.ValidUntil = c.ValidUntil(level, a.ValidFrom)
	}
	a.DeclaredAt, a.ValidFrom, a.ValidUntil = a.DeclaredAt.UTC(), a.ValidFrom.UTC(), a.ValidUntil.UTC()
	a.Review = nil
	for _, f := range files {
		if len(f.Content) > MaxEvidence {
			return control.Attestation{}, errs.Field("evidence", "%s is larger than %d MiB", f.Name, MaxEvidence>>20)
		}
		ev := control.NewEvidenceFile(f.Name, f.Content)
		if err := ev.Validate(); err != nil {
			return control.Attestation{}, err
		}
		if err := s.store.PutEvidence(ctx, ev.SHA256, f.Content, now); err != nil {
			return control.Attestation{}, err
		}
		a.Evidence = append(a.Evidence, ev)
	}
	if err := a.Validate(c); err != nil {
		return control.Attestation{}, errs.E(errs.Invalid, "%v", err)
	}
	return a, s.store.CreateAttestation(ctx, a)
}

// Review records a reviewer's decision on an attestation: someone other than its declarer,
// with a comment when rejecting.
func (s *Service) Review(ctx context.Context, id string, r control.Review) (control.Attestation, error) {
	a, err := s.store.Attestation(ctx, id)
	if err != nil {
		return control.Attestation{}, err
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	r.At = r.At.UTC()
	c, ok := s.catalog.Control(a.Control)
	if !ok {
		return control.Attestation{}, errs.E(errs.Conflict, "attestation %s is of control %s, no longer in the catalog", id, a.Control)
	}
	check := a
	check.Review = &r
	if err := check.Validate(c); err != nil {
		return control.Attestation{}, errs.E(errs.Invalid, "%v", err)
	}
	return s.store.ReviewAttestation(ctx, id, r)
}

// Attestation returns one attestation.
func (s *Service) Attestation(ctx context.Context, id string) (control.Attestation, error) {
	return s.store.Attestation(ctx, id)
}

// Attestations lists the attestations of an organization or system, or all.
func (s *Service) Attestations(ctx context.Context, org, system string) ([]control.Attestation, error) {
	return s.store.Attestations(ctx, org, system)
}

// ReportIncident records an incident or updates it (its report and notice times).
func (s *Service) ReportIncident(ctx context.Context, i index.Incident) (index.Incident, error) {
	if i.ID == "" {
		i.ID = newID("inc-")
	}
	if _, err := s.inv.Org(ctx, i.Org); err != nil {
		if errs.Is(err, errs.NotFound) {
			return i, errs.Field("org", "organization %q not found", i.Org)
		}
		return i, err
	}
	if i.System != "" {
		if _, err := s.inv.System(ctx, i.System); err != nil {
			return i, err
		}
	}
	if i.DiscoveredAt.IsZero() {
		return i, errs.Field("discovered_at", "is required: the legal clocks run from discovery")
	}
	for _, t := range []*time.Time{&i.DiscoveredAt, &i.ReportedAt, &i.FullReportAt, &i.NotifiedAt} {
		if !t.IsZero() {
			*t = t.UTC()
			if t.Before(i.DiscoveredAt) {
				return i, errs.Field("reported_at", "a report cannot come before the discovery")
			}
		}
	}
	return i, s.store.PutIncident(ctx, i)
}

// Incidents lists every incident.
func (s *Service) Incidents(ctx context.Context) ([]index.Incident, error) {
	return s.store.Incidents(ctx)
}

// RecordRequest records an authority request or its answer.
func (s *Service) RecordRequest(ctx context.Context, r index.Request) (index.Request, error) {
	if r.ID == "" {
		r.ID = newID("req-")
	}
	if _, err := s.inv.Org(ctx, r.Org); err != nil {
		return r, err
	}
	if r.ReceivedAt.IsZero() {
		return r, errs.Field("received_at", "is required")
	}
	r.ReceivedAt = r.ReceivedAt.UTC()
	if !r.AnsweredAt.IsZero() {
		r.AnsweredAt = r.AnsweredAt.UTC()
	}
	return r, s.store.PutRequest(ctx, r)
}

// Requests lists every authority request.
func (s *Service) Requests(ctx context.Context) ([]index.Request, error) {
	return s.store.Requests(ctx)
}

// SystemRemoved records that sys was deleted from the inventory by whom. The inventory calls
// it after a successful delete.
func (s *Service) SystemRemoved(ctx context.Context, sys inventory.System, by string) error {
	return s.store.RecordRemoval(ctx, index.RemovedSystem{ID: sys.ID, Org: sys.Org, Name: sys.Name, Level: sys.Level,
		Stage: sys.Stage, RemovedAt: s.now(), By: by, Reason: "xóa khỏi danh mục / deleted from the inventory"}, sys)
}

// Policy returns the gate policy in force: the latest stored, or the default.
func (s *Service) Policy(ctx context.Context) (gate.Policy, error) {
	y, err := s.store.GatePolicy(ctx)
	switch {
	case errs.Is(err, errs.NotFound):
		return gate.DefaultPolicy(), nil
	case err != nil:
		return gate.Policy{}, err
	}
	return gate.ParsePolicy(y)
}

// SetPolicy stores a new gate policy (YAML) set by whom.
func (s *Service) SetPolicy(ctx context.Context, yaml []byte, by string) (gate.Policy, error) {
	p, err := gate.ParsePolicy(yaml)
	if err != nil {
		return gate.Policy{}, errs.Field("policy", "%v", err)
	}
	return p, s.store.SetGatePolicy(ctx, p.ID, yaml, by, s.now())
}

// AddException stores an approved exception for a system.
func (s *Service) AddException(ctx context.Context, x gate.Exception) (gate.Exception, error) {
	if x.ID == "" {
		x.ID = newID("ex-")
	}
	if x.ApprovedAt.IsZero() {
		x.ApprovedAt = s.now()
	}
	x.ApprovedAt, x.Expires = x.ApprovedAt.UTC(), x.Expires.UTC()
	if _, err := s.inv.System(ctx, x.System); err != nil {
		return x, err
	}
	if err := x.Validate(); err != nil {
		return x, errs.E(errs.Invalid, "%v", err)
	}
	return x, s.store.CreateException(ctx, x)
}

// Exceptions lists the exceptions of a system, or all.
func (s *Service) Exceptions(ctx context.Context, system string) ([]gate.Exception, error) {
	return s.store.Exceptions(ctx, system)
}

// Decide asks the gate whether system may enter stage now, and records the decision, allowed
// or not, as made by whom.
func (s *Service) Decide(ctx context.Context, system string, stage inventory.Stage, by string) (DecisionRecord, error) {
	if !slices.Contains(inventory.Stages, stage) {
		return DecisionRecord{}, errs.Field("stage", "%q is not a stage: use one of planning, design, build, test, operation, retired", stage)
	}
	sys, err := s.inv.System(ctx, system)
	if err != nil {
		return DecisionRecord{}, err
	}
	now := s.now()
	facts, err := s.gateFacts(ctx, sys, now)
	if err != nil {
		return DecisionRecord{}, err
	}
	p, err := s.Policy(ctx)
	if err != nil {
		return DecisionRecord{}, err
	}
	xs, err := s.store.Exceptions(ctx, sys.ID)
	if err != nil {
		return DecisionRecord{}, err
	}
	rec := DecisionRecord{ID: newID("gd-"), By: by, Decision: gate.Decide(sys, stage, facts, p, xs, now)}
	return rec, s.store.RecordDecision(ctx, rec.ID, rec.Decision, by)
}

// Decisions returns the latest gate decisions of a system, newest first.
func (s *Service) Decisions(ctx context.Context, system string, limit int) ([]DecisionRecord, error) {
	if _, err := s.inv.System(ctx, system); err != nil {
		return nil, err
	}
	return s.store.Decisions(ctx, system, limit)
}

// RunDaily stores today's snapshot when it is missing, now and then every hour, until ctx
// ends: the server calls it, so that every day has its index and the trend has no holes while
// the server runs. Failures are logged and tried again at the next hour.
func (s *Service) RunDaily(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := s.now()
		if ctx.Err() != nil {
			return
		}
		{
			if done, err := s.hasDay(ctx, Day(now)); err != nil {
				log.Error("index snapshot", "err", err)
			} else if !done {
				if d, err := s.Snapshot(ctx, now); err != nil {
					log.Error("index snapshot", "day", Day(now), "err", err)
				} else {
					log.Info("index snapshot stored", "day", d.Day, "orgs", len(d.Orgs), "method", d.Method)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// hasDay reports whether the snapshot of day is stored, for any organization of the tree.
func (s *Service) hasDay(ctx context.Context, day string) (bool, error) {
	inv, err := s.inv.Snapshot(ctx)
	if err != nil || len(inv.Orgs) == 0 {
		return len(inv.Orgs) == 0, err
	}
	_, err = s.store.IndexSnapshot(ctx, inv.Orgs[0].Code, day)
	switch {
	case errs.Is(err, errs.NotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// earliest is the method that takes effect first.
func earliest(methods []index.Method) index.Method {
	m := methods[0]
	for _, x := range methods[1:] {
		if x.EffectiveFrom.Before(m.EffectiveFrom) {
			m = x
		}
	}
	return m
}
