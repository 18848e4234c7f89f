package check_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/httpcheck"
	"github.com/khien-vn/khien/internal/check/tlscheck"
	"github.com/khien-vn/khien/internal/inventory"
)

// TestFamilyErrorEvidence: when observation fails, every check's Error result carries the
// family's ErrorEvidence beside the error, each in a map of its own.
func TestFamilyErrorEvidence(t *testing.T) {
	fam := check.Family[int]{
		Name:          "x",
		Observe:       func(context.Context, inventory.Resource, check.Env) (int, error) { return 0, errors.New("refused") },
		Checks:        []check.Check[int]{{ID: "x.a"}, {ID: "x.b"}},
		ErrorEvidence: map[string]any{"profile": "testssl", "error": "not this one"},
	}
	res := fam.Run(t.Context(), inventory.Resource{ID: "dns:x.example.test"}, check.Env{})
	if len(res) != 2 {
		t.Fatalf("results = %+v", res)
	}
	for _, r := range res {
		if r.Status != check.Error || r.Evidence["profile"] != "testssl" || r.Evidence["error"] != "refused" {
			t.Errorf("%s: %s %v, want an error naming the profile and the observation's error", r.Check, r.Status, r.Evidence)
		}
	}
	res[0].Evidence["profile"] = "changed"
	if res[1].Evidence["profile"] != "testssl" || fam.ErrorEvidence["profile"] != "testssl" {
		t.Error("error results share one evidence map")
	}

	fam.ErrorEvidence = nil
	res = fam.Run(t.Context(), inventory.Resource{ID: "dns:x.example.test"}, check.Env{})
	if len(res[0].Evidence) != 1 || res[0].Evidence["error"] != "refused" {
		t.Errorf("evidence without ErrorEvidence = %v, want the error alone", res[0].Evidence)
	}
}

// TestProfileOnErrorResults: the tls and http families name their grading profile in the
// evidence of error results (a host that cannot be reached), as they do in their verdicts.
func TestProfileOnErrorResults(t *testing.T) {
	refuse := check.Env{
		Dial: func(_ context.Context, _, addr string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused by the test: " + addr)}
		},
		Timeout: time.Second,
	}
	r := inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified}
	for _, p := range check.Profiles() {
		families := map[string]check.Runner{
			"tls":  tlscheck.FamilyWith(tlscheck.GradingFor(p)),
			"http": httpcheck.Family(httpcheck.Options{Grading: httpcheck.GradingFor(p)}),
		}
		for name, f := range families {
			t.Run(string(p)+"/"+name, func(t *testing.T) {
				res := f.Run(t.Context(), r, refuse)
				if len(res) == 0 {
					t.Fatal("no results")
				}
				for _, res := range res {
					if res.Status != check.Error {
						t.Fatalf("%s = %s, want error (nothing answers)", res.Check, res.Status)
					}
					if got := res.Evidence["profile"]; got != string(p) {
						t.Errorf("%s: evidence profile = %v, want %q", res.Check, got, p)
					}
				}
			})
		}
	}
}
