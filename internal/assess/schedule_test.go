package assess

import (
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

const (
	hour = time.Hour
	day  = 24 * time.Hour
)

func TestNextDue(t *testing.T) {
	tests := []struct {
		name   string
		h      Health
		want   time.Duration
		reason string
	}{
		{"level 1", Health{Level: 1}, day, "security level 1: every day"},
		{"level 3", Health{Level: 3}, day, "every day"},
		{"level 4", Health{Level: 4}, 6 * hour, "security level 4: every 6 hours"},
		{"level 5", Health{Level: 5}, 6 * hour, "every 6 hours"},
		{"unknown level is daily", Health{}, day, "every day"},
		{"critical open, level 3", Health{Level: 3, OpenCritical: true}, 12 * hour, "open critical finding: every 12 hours"},
		{"critical open, level 5 keeps its cadence", Health{Level: 5, OpenCritical: true}, 6 * hour, "every 6 hours"},
		{"known exploited, level 1", Health{Level: 1, KnownExploited: true}, 12 * hour, "known-exploited"},
		{"risk before reachability", Health{Level: 2, OpenCritical: true, UnreachableRuns: 4}, 12 * hour, "critical"},
		{"risk before a clean streak", Health{Level: 2, OpenCritical: true, CleanFor: 40 * day}, 12 * hour, "critical"},
		{"unreachable once", Health{Level: 3, UnreachableRuns: 1}, 2 * day, "unreachable 1 run in a row: backing off to every 2 days"},
		{"unreachable twice", Health{Level: 3, UnreachableRuns: 2}, 4 * day, "2 runs"},
		{"unreachable, capped weekly", Health{Level: 3, UnreachableRuns: 3}, 7 * day, "every 7 days"},
		{"unreachable for long, no overflow", Health{Level: 3, UnreachableRuns: 70}, 7 * day, "70 runs"},
		{"unreachable, level 5", Health{Level: 5, UnreachableRuns: 1}, 12 * hour, "every 12 hours"},
		{"unreachable, level 5, capped", Health{Level: 5, UnreachableRuns: 5}, 7 * day, "every 7 days"},
		{"clean for 6 days", Health{Level: 3, CleanFor: 6 * day}, day, "every day"},
		{"clean for a week, level 3", Health{Level: 3, CleanFor: 7 * day}, 3 * day, "nothing open for a week: every 3 days"},
		{"clean for a month, level 1", Health{Level: 1, CleanFor: 30 * day}, 7 * day, "nothing open for 30 days: every 7 days"},
		{"clean for a week, level 4", Health{Level: 4, CleanFor: 8 * day}, 12 * hour, "every 12 hours"},
		{"clean for a month, level 5, at most 4 times its cadence", Health{Level: 5, CleanFor: 90 * day}, day, "every day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := NextDue(tt.h)
			if got != tt.want || !strings.Contains(reason, tt.reason) {
				t.Errorf("NextDue(%+v) = %v, %q; want %v, a reason containing %q", tt.h, got, reason, tt.want, tt.reason)
			}
			if got > CadenceMax {
				t.Errorf("NextDue(%+v) = %v, longer than weekly", tt.h, got)
			}
		})
	}
}

// TestNextSchedule follows one level-3 resource through a sequence of runs.
func TestNextSchedule(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	type run struct {
		after        time.Duration // since t0
		status       RunStatus
		open, crit   int
		wantCadence  time.Duration
		wantUnreach  int
		wantCleanFor time.Duration // since CleanSince; -1: none
	}
	steps := []run{
		{0, RunComplete, 2, 1, 12 * hour, 0, -1},
		{12 * hour, RunComplete, 1, 0, day, 0, -1},
		{36 * hour, RunComplete, 0, 0, day, 0, 0}, // clean from here
		{60 * hour, RunUnreachable, 0, 0, 2 * day, 1, 24 * hour},
		{108 * hour, RunUnreachable, 0, 0, 4 * day, 2, 72 * hour},
		{204 * hour, RunComplete, 0, 0, 3 * day, 0, 168 * hour}, // reachable again, clean for a week
		{276 * hour, RunComplete, 1, 0, day, 0, -1},             // a finding: back to daily
	}
	var sc Schedule
	for i, s := range steps {
		finished := t0.Add(s.after)
		sum := RunSummary{Run: Run{Resource: "ip:192.0.2.1", Status: s.status, Finished: finished},
			Counts: Counts{Open: s.open, OpenCritical: s.crit}}
		sc = nextSchedule(sc, 3, sum)
		cleanFor := time.Duration(-1)
		if !sc.CleanSince.IsZero() {
			cleanFor = finished.Sub(sc.CleanSince)
		}
		if sc.Cadence != s.wantCadence || sc.UnreachableRuns != s.wantUnreach || cleanFor != s.wantCleanFor ||
			!sc.NextDue.Equal(finished.Add(s.wantCadence)) || !sc.LastRun.Equal(finished) || sc.Reason == "" {
			t.Fatalf("step %d: %+v (clean for %v); want cadence %v, %d unreachable, clean for %v",
				i, sc, cleanFor, s.wantCadence, s.wantUnreach, s.wantCleanFor)
		}
	}
}

func TestRunStatus(t *testing.T) {
	refusal := check.Result{Status: check.Error, Evidence: map[string]any{"out_of_scope": "assigned, not verified"}}
	errored := check.Result{Status: check.Error, Evidence: map[string]any{"error": "connection refused"}}
	tests := []struct {
		name    string
		results []check.Result
		want    RunStatus
	}{
		{"nothing applies", nil, RunComplete},
		{"every observation failed", []check.Result{errored, errored}, RunUnreachable},
		{"and a family was refused", []check.Result{errored, refusal}, RunUnreachable},
		{"only refusals", []check.Result{refusal}, RunComplete},
		{"one observation worked", []check.Result{errored, {Status: check.Pass}}, RunComplete},
		{"a failure is an observation", []check.Result{{Status: check.Fail}}, RunComplete},
	}
	for _, tt := range tests {
		if got := runStatus(tt.results); got != tt.want {
			t.Errorf("%s: runStatus = %s, want %s", tt.name, got, tt.want)
		}
	}
}
