package inventory

import (
	"errors"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/errs"
)

func TestProofError(t *testing.T) {
	cause := errors.New("connection refused")
	e := &ProofError{Resource: "dns:x.vn", Attempts: []ProofAttempt{
		{Method: ProofDNSTXT, Target: "_khien-challenge.x.vn", Outcome: OutcomeRecordMissing, Seen: 2, Expected: "khien-verification=t",
			Detail: `DNS TXT _khien-challenge.x.vn: 2 record(s), none is "khien-verification=t"`},
		{Method: ProofHTTP, Target: "http://x.vn/.well-known/khien-verification.txt", Outcome: OutcomeHTTPUnreachable, Err: cause,
			Detail: "HTTP http://x.vn/.well-known/khien-verification.txt: connection refused"},
	}}
	var err error = e
	const want = `ownership of dns:x.vn is not proven: DNS TXT _khien-challenge.x.vn: 2 record(s), none is "khien-verification=t"; HTTP http://x.vn/.well-known/khien-verification.txt: connection refused`
	if msg, _ := errs.Message(err); !errs.Is(err, errs.Invalid) || err.Error() != want || msg != want {
		t.Errorf("ProofError: kind %v, Error %q, message %q; want invalid, %q", errs.KindOf(err), err.Error(), msg, want)
	}
	if !errors.Is(err, cause) {
		t.Errorf("%v does not wrap its attempts' causes", err)
	}
	if r := e.Attempts[0].Reason(); r.VI != "Không tìm thấy bản ghi TXT khien-verification=t tại _khien-challenge.x.vn (thấy 2 bản ghi khác)." {
		t.Errorf("reason = %q", r.VI)
	}

	// Err, when set, speaks for the error: its kind and message.
	fenced := errs.E(errs.OutOfScope, "refused 192.0.2.1")
	e = &ProofError{Resource: "db:postgres://192.0.2.1/x", Err: fenced, Attempts: []ProofAttempt{{Method: ProofDB, Outcome: OutcomeRefusedByScope}}}
	if msg, _ := errs.Message(e); !errs.Is(e, errs.OutOfScope) || msg != "refused 192.0.2.1" || e.Error() != fenced.Error() {
		t.Errorf("ProofError with Err: kind %v, message %q", errs.KindOf(e), msg)
	}
}

// TestProofReasons checks that every outcome has its own reason, in both languages, naming
// the target, and that none leaks a word of the other language's frame.
func TestProofReasons(t *testing.T) {
	outcomes := []ProofOutcome{OutcomeNoResolver, OutcomeLookupFailed, OutcomeRecordMissing, OutcomeRefusedByScope,
		OutcomeHTTPUnreachable, OutcomeHTTPStatus, OutcomeHTTPBodyMismatch, OutcomeDBNotConfigured, OutcomeDBNoCredentials,
		OutcomeDBUnreachable, OutcomeDBTokenMissing}
	seen := map[string]ProofOutcome{}
	fallback := ProofAttempt{Target: "T.example", Outcome: "no-such-outcome"}.Reason()
	for _, o := range outcomes {
		r := ProofAttempt{Target: "T.example", Outcome: o, Expected: "khien-verification=t", Status: 404, Seen: 1}.Reason()
		if r.VI == "" || r.EN == "" || r.VI == r.EN || r == fallback {
			t.Errorf("%s: reason %+v", o, r)
		}
		if !strings.Contains(r.VI, "T.example") || !strings.Contains(r.EN, "T.example") {
			t.Errorf("%s: reason %+v does not name the target", o, r)
		}
		if strings.Contains(r.VI, " the ") || strings.Contains(r.EN, " không ") {
			t.Errorf("%s: reason mixes languages: %+v", o, r)
		}
		if prev, dup := seen[r.EN]; dup {
			t.Errorf("%s and %s share a reason", o, prev)
		}
		seen[r.EN] = o
	}
}

// TestRefusedResolver: a DNS lookup refused by the fence was refused for the resolver's
// address, not the target's; the reason says so and points at the server's setting.
func TestRefusedResolver(t *testing.T) {
	r := ProofAttempt{Method: ProofDNSTXT, Target: "_khien-challenge.x.vn", Outcome: OutcomeRefusedByScope}.Reason()
	h := ProofAttempt{Method: ProofHTTP, Target: "http://x.vn/.well-known/khien", Outcome: OutcomeRefusedByScope}.Reason()
	if !strings.Contains(r.VI, "--resolver") || !strings.Contains(r.EN, "--resolver") || strings.Contains(h.EN, "--resolver") {
		t.Errorf("DNS refusal %+v; HTTP refusal %+v", r, h)
	}
}
