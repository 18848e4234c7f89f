package finding

import (
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
)

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func res(s check.Status) check.Result {
	return check.Result{Check: "tls.protocol.tls10", Resource: "dns:a.test", Endpoint: "a.test|127.0.0.1:443", Status: s,
		Reason: check.Text{VI: "lý do", EN: "reason"}}
}

func TestLifecycle(t *testing.T) {
	type step struct {
		result     check.Status
		at         time.Time
		wantStatus Status // "" means no finding
		wantChange Change
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"pass never makes a finding", []step{{check.Pass, day(0), "", Unchanged}}},
		{"fail opens, fail persists", []step{{check.Fail, day(0), Open, New}, {check.Fail, day(1), Open, Persisting}}},
		{"fail, pass fixes, fail reopens", []step{{check.Fail, day(0), Open, New}, {check.Pass, day(1), Fixed, Resolved}, {check.Fail, day(2), Reopened, Reopening}, {check.Pass, day(3), Fixed, Resolved}}},
		{"error changes nothing", []step{{check.Fail, day(0), Open, New}, {check.Error, day(1), Open, Unchanged}, {check.NotApplicable, day(2), Open, Unchanged}}},
		{"pass after fixed is unchanged", []step{{check.Fail, day(0), Open, New}, {check.Pass, day(1), Fixed, Resolved}, {check.Pass, day(2), Fixed, Unchanged}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *Finding
			for i, s := range tt.steps {
				var ch Change
				f, ch = Apply(f, res(s.result), check.Medium, "run", s.at)
				got := Status("")
				if f != nil {
					got = f.Status
				}
				if got != s.wantStatus || ch != s.wantChange {
					t.Fatalf("step %d (%s): status %q change %q, want %q %q", i, s.result, got, ch, s.wantStatus, s.wantChange)
				}
			}
		})
	}
}

func TestReopenRestartsClock(t *testing.T) {
	f, _ := Apply(nil, res(check.Fail), check.Critical, "r1", day(0))
	if due, _ := f.Due(); !due.Equal(day(15)) {
		t.Errorf("critical due = %v, want day 15", due)
	}
	if f.Overdue(day(15)) || !f.Overdue(day(16)) {
		t.Error("overdue boundary wrong")
	}
	f, _ = Apply(f, res(check.Pass), check.Critical, "r2", day(20))
	if f.Overdue(day(40)) {
		t.Error("a fixed finding is never overdue")
	}
	f, _ = Apply(f, res(check.Fail), check.Critical, "r3", day(30))
	if due, _ := f.Due(); !due.Equal(day(45)) || f.Reopens != 1 || !f.FirstSeen.Equal(day(0)) {
		t.Errorf("reopened: due %v reopens %d first seen %v", due, f.Reopens, f.FirstSeen)
	}
	if _, ok := (Finding{Severity: check.Medium, Status: Open}).Due(); ok {
		t.Error("medium findings have no deadline")
	}
}

func TestAcceptance(t *testing.T) {
	f, _ := Apply(nil, res(check.Fail), check.High, "r1", day(0))
	bad := []struct {
		name string
		a    Acceptance
		kind errs.Kind
		msg  string
	}{
		{"no approver", Acceptance{Reason: "hệ thống cũ, thay thế quý 1", At: day(1), Expires: day(30)}, errs.Invalid, "an accepted risk needs a named approver"},
		{"short reason", Acceptance{By: "Lê Minh Đức", Reason: "ok", At: day(1), Expires: day(30)}, errs.Invalid, "an accepted risk needs a reason of at least 10 characters"},
		{"past expiry", Acceptance{By: "Lê Minh Đức", Reason: "hệ thống cũ, thay thế quý 1", At: day(1), Expires: day(1)}, errs.Invalid, "the expiry must be in the future"},
		{"too long", Acceptance{By: "Lê Minh Đức", Reason: "hệ thống cũ, thay thế quý 1", At: day(1), Expires: day(400)}, errs.Invalid, "a risk may be accepted for one year at most; accept it again when it expires"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Accept(*f, tt.a)
			if msg, _ := errs.Message(err); errs.KindOf(err) != tt.kind || msg != tt.msg {
				t.Errorf("Accept = %v, want %v %q", err, tt.kind, tt.msg)
			}
		})
	}
	acc, err := Accept(*f, Acceptance{By: "Lê Minh Đức", Reason: "hệ thống cũ, thay thế quý 1", At: day(1), Expires: day(31)})
	if err != nil {
		t.Fatal(err)
	}
	// Failing while accepted stays accepted; the clock does not run.
	g, ch := Apply(&acc, res(check.Fail), check.High, "r2", day(10))
	if g.Status != Accepted || ch != Persisting || g.Overdue(day(30)) {
		t.Errorf("failing while accepted: %s %s overdue=%v", g.Status, ch, g.Overdue(day(30)))
	}
	// After the expiry it is open again, with the clock starting at the expiry.
	e := g.Effective(day(31))
	if e.Status != Open || !e.OpenedAt.Equal(day(31)) || e.Overdue(day(60)) || !e.Overdue(day(62)) {
		t.Errorf("expired acceptance: %+v", e)
	}
	h, _ := Apply(g, res(check.Fail), check.High, "r3", day(40))
	if h.Status != Open {
		t.Errorf("failing after expiry = %s, want open", h.Status)
	}
	// A pass clears the acceptance; a fixed finding cannot be accepted.
	p, _ := Apply(g, res(check.Pass), check.High, "r4", day(12))
	if p.Status != Fixed || p.Acceptance != nil {
		t.Errorf("pass while accepted: %+v", p)
	}
	if _, err := Accept(*p, Acceptance{By: "x", Reason: "long enough reason", At: day(13), Expires: day(20)}); !errs.Is(err, errs.Conflict) {
		t.Errorf("accepting a fixed finding = %v, want conflict", err)
	}
}

func TestFingerprintStable(t *testing.T) {
	a := Fingerprint("tls.protocol.tls10", "dns:a.test", "a.test|127.0.0.1:443")
	if a != Fingerprint("tls.protocol.tls10", "dns:a.test", "a.test|127.0.0.1:443") || len(a) != 32 {
		t.Fatalf("fingerprint %q not stable", a)
	}
	if a == Fingerprint("tls.protocol.tls10", "dns:a.test", "a.test|127.0.0.2:443") {
		t.Error("different endpoints share a fingerprint")
	}
	// Fingerprints are stored; they must never change between releases.
	if want := "90586a3e250924f25109756cda23ad24"; a != want {
		t.Errorf("fingerprint = %s, want %s (stored fingerprints would no longer match)", a, want)
	}
}
