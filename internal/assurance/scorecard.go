package assurance

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/report"
)

// Scorecard builds the yearly scorecard of org. For the current year it is today's index — the
// stored snapshot of today, recomputed and verified, if there is one, else computed now; for a
// past year, the last stored snapshot of that year. The trend is the year's stored snapshots.
func (s *Service) Scorecard(ctx context.Context, org string, year int) (report.Scorecard, error) {
	now := s.now()
	if year < 2000 || year > now.Year() {
		return report.Scorecard{}, errs.Field("year", "%d is not a year from 2000 to %d", year, now.Year())
	}
	o, err := s.inv.Org(ctx, org)
	if err != nil {
		return report.Scorecard{}, err
	}
	from, to := fmt.Sprintf("%d-01-01", year), fmt.Sprintf("%d-12-31", year)
	hist, err := s.store.History(ctx, org, from, to)
	if err != nil {
		return report.Scorecard{}, err
	}
	var a Answer
	switch {
	case year == now.Year():
		a, err = s.IndexAt(ctx, org, Day(now))
		if errs.Is(err, errs.NotFound) {
			a, err = s.Index(ctx, org)
		}
	case len(hist) == 0:
		return report.Scorecard{}, errs.E(errs.NotFound, "no index of %s is stored for %d", org, year)
	default:
		a, err = s.IndexAt(ctx, org, hist[len(hist)-1].Day)
	}
	if err != nil {
		return report.Scorecard{}, err
	}
	methods, err := s.Methods(ctx)
	if err != nil {
		return report.Scorecard{}, err
	}
	r := a.Org
	sc := report.Scorecard{Org: r.Org, Name: r.Name, Head: o.Head.Name, HeadTitle: o.Head.Title, Year: year, AsOf: a.Result.AsOf,
		Method: a.Result.Method, Tenths: r.Tenths, Grade: r.Grade, Rank: r.Rank, Peers: r.Peers, Verified: a.Stored && a.Verified,
		Pillars: r.Pillars, Actions: r.Actions, Caps: r.Caps, Deadlines: r.Deadlines, Removed: r.Removed, Counts: r.Subtree}
	sc.GradeVI, sc.GradeEN = GradeName(methods, a.Result.Method, r.Grade)
	for _, h := range hist {
		d, _ := time.Parse(time.DateOnly, h.Day)
		sc.Trend = append(sc.Trend, report.TrendPoint{Day: d, Tenths: h.Tenths})
	}
	if len(hist) == 0 || hist[len(hist)-1].Day != Day(a.Result.AsOf) {
		sc.Trend = append(sc.Trend, report.TrendPoint{Day: a.Result.AsOf, Tenths: r.Tenths})
	}
	for _, e := range r.Explanation {
		sc.Explanation = append(sc.Explanation, e.VI)
	}
	in := Subtree(a.Result, org)
	sysOrg := map[string]string{}
	for _, sy := range a.Result.Systems {
		sysOrg[sy.System] = sy.Org
		if !in[sy.Org] || sy.Stage == inventory.StageRetired {
			continue
		}
		vi, _ := GradeName(methods, a.Result.Method, sy.Grade)
		sc.Systems = append(sc.Systems, report.ScorecardSystem{ID: sy.System, Name: sy.Name, Org: sy.Org, Level: sy.Level, Stage: string(sy.Stage),
			Counts: sy.Weight > 0, Tenths: sy.Tenths, GradeVI: vi, OpenCritical: sy.Counts.OpenCritical, OpenHigh: sy.Counts.OpenHigh,
			ControlsMet: sy.ControlsMet, ControlsReq: sy.ControlsRequired})
	}
	// Weakest first, of those that count: that is where the leader's attention goes.
	slices.SortStableFunc(sc.Systems, func(x, y report.ScorecardSystem) int {
		return cmp.Or(cmp.Compare(boolInt(!x.Counts), boolInt(!y.Counts)), cmp.Compare(x.Tenths, y.Tenths), cmp.Compare(x.ID, y.ID))
	})
	for _, c := range a.Result.Orgs {
		if c.Parent == org {
			vi, _ := GradeName(methods, a.Result.Method, c.Grade)
			sc.Children = append(sc.Children, report.ScorecardChild{Org: c.Org, Name: c.Name, Tenths: c.Tenths, GradeVI: vi, Rank: c.Rank})
		}
	}
	resSys := map[string]string{}
	for _, rs := range a.Input.Resources {
		resSys[rs.ID] = rs.System
	}
	m := index.DefaultMethod()
	if i := slices.IndexFunc(methods, func(x index.Method) bool { return x.ID == a.Result.Method }); i >= 0 {
		m = methods[i]
	}
	asOf := a.Result.AsOf
	for _, f := range a.Input.Findings {
		sys := resSys[f.Resource]
		if !in[sysOrg[sys]] || f.FirstSeen.After(asOf) || (!f.AcceptedUntil.IsZero() && asOf.Before(f.AcceptedUntil)) {
			continue
		}
		sla := 0
		switch f.Severity {
		case check.Critical:
			sla = m.SLADays.Critical
		case check.High:
			sla = m.SLADays.High
		default:
			continue
		}
		age := int(asOf.Sub(f.OpenedAt).Hours() / 24)
		sc.Findings = append(sc.Findings, report.ScorecardFinding{System: sys, Resource: f.Resource, Check: f.Check,
			Severity: string(f.Severity), AgeDays: age, Overdue: age > sla})
	}
	slices.SortStableFunc(sc.Findings, func(x, y report.ScorecardFinding) int {
		return cmp.Or(cmp.Compare(x.Severity, y.Severity), cmp.Compare(y.AgeDays, x.AgeDays), cmp.Compare(x.Resource, y.Resource), cmp.Compare(x.Check, y.Check))
	})
	xs, err := s.store.Exceptions(ctx, "")
	if err != nil {
		return report.Scorecard{}, err
	}
	for _, x := range xs {
		stage := x.Stage
		if stage == "" {
			stage = inventory.StageOperation
		}
		if in[sysOrg[x.System]] && x.Active(x.System, stage, asOf) {
			sc.Exceptions = append(sc.Exceptions, report.ScorecardException{ID: x.ID, System: x.System,
				Reasons: strings.Join(x.Reasons, ", "), Approver: x.Approver, Expires: x.Expires})
		}
	}
	return sc, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
