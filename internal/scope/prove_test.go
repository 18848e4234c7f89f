package scope

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// wantAttempt is what one attempt of a failed proof should say.
type wantAttempt struct {
	method  string
	target  string
	outcome inventory.ProofOutcome
	seen    int // record-missing
	status  int // http-status, http-body-mismatch
}

// checkProofError asserts that err is a ProofError of resource with exactly want, each with
// a reason in both languages that names its target.
func checkProofError(t *testing.T, err error, resource string, kind errs.Kind, want ...wantAttempt) *inventory.ProofError {
	t.Helper()
	var pe *inventory.ProofError
	if !errors.As(err, &pe) {
		t.Fatalf("Prove: %v (%T); want an *inventory.ProofError", err, err)
	}
	if !errs.Is(err, kind) {
		t.Errorf("Prove: %v is a %v error; want %v", err, errs.KindOf(err), kind)
	}
	if pe.Resource != resource {
		t.Errorf("ProofError.Resource = %q, want %q", pe.Resource, resource)
	}
	if len(pe.Attempts) != len(want) {
		t.Fatalf("attempts = %+v; want %d", pe.Attempts, len(want))
	}
	for i, w := range want {
		a := pe.Attempts[i]
		if a.Method != w.method || a.Target != w.target || a.Outcome != w.outcome || a.Seen != w.seen || a.Status != w.status {
			t.Errorf("attempt %d = {%s %s %s seen %d status %d}; want %+v", i, a.Method, a.Target, a.Outcome, a.Seen, a.Status, w)
		}
		r := a.Reason()
		if r.VI == "" || r.EN == "" || r.VI == r.EN || !strings.Contains(r.VI, a.Target) || !strings.Contains(r.EN, a.Target) {
			t.Errorf("attempt %d reason = %+v; want both languages naming %s", i, r, a.Target)
		}
		if a.Detail == "" {
			t.Errorf("attempt %d has no detail for the log", i)
		}
	}
	return pe
}

// TestProveOutcomes fails a proof in every way the DNS and HTTP methods tell apart, against a
// loopback DNS server and loopback web servers, and checks the attempts the error carries.
func TestProveOutcomes(t *testing.T) {
	const token = "tok2345"
	z, dnsAddr := startDNS(t)
	z.setTXT("_khien-challenge.other.lab.test", "v=spf1 -all", "khien-verification=someone-else")
	z.setTXT("_khien-challenge.empty.lab.test") // no record: the name does not exist

	serve := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprintln(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + inventory.ChallengePath
	}
	notFound, wrongBody, proven := serve(http.StatusNotFound, token), serve(http.StatusOK, "not-the-token"), serve(http.StatusOK, token)
	// A port nobody listens on any more: the connection is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + inventory.ChallengePath
	ln.Close()
	outside := "http://192.0.2.1" + inventory.ChallengePath // TEST-NET: refused before any packet

	withDNS := New(LoopbackFence(), dnsAddr, 2*time.Second)
	noDNS := New(LoopbackFence(), "", 2*time.Second)
	challenge := func(dnsName, httpURL string) inventory.Challenge {
		c := inventory.Challenge{Resource: "url:" + httpURL, Token: token, HTTPURL: httpURL}
		if dnsName != "" {
			c.DNSName, c.DNSValue = dnsName, "khien-verification="+token
		}
		return c
	}
	tests := []struct {
		name  string
		guard *Guard
		c     inventory.Challenge
		want  []wantAttempt
	}{
		{"no resolver, HTTP 404", noDNS, challenge("_khien-challenge.x.lab.test", notFound), []wantAttempt{
			{inventory.ProofDNSTXT, "_khien-challenge.x.lab.test", inventory.OutcomeNoResolver, 0, 0},
			{inventory.ProofHTTP, notFound, inventory.OutcomeHTTPStatus, 0, http.StatusNotFound}}},
		{"no such name, wrong body", withDNS, challenge("_khien-challenge.empty.lab.test", wrongBody), []wantAttempt{
			{inventory.ProofDNSTXT, "_khien-challenge.empty.lab.test", inventory.OutcomeLookupFailed, 0, 0},
			{inventory.ProofHTTP, wrongBody, inventory.OutcomeHTTPBodyMismatch, 0, http.StatusOK}}},
		{"other records, connection refused", withDNS, challenge("_khien-challenge.other.lab.test", closed), []wantAttempt{
			{inventory.ProofDNSTXT, "_khien-challenge.other.lab.test", inventory.OutcomeRecordMissing, 2, 0},
			{inventory.ProofHTTP, closed, inventory.OutcomeHTTPUnreachable, 0, 0}}},
		{"HTTP outside the fence", withDNS, challenge("", outside), []wantAttempt{
			{inventory.ProofHTTP, outside, inventory.OutcomeRefusedByScope, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			how, err := (&Prover{Guard: tt.guard}).Prove(t.Context(), tt.c)
			if err == nil {
				t.Fatalf("Prove = %q, nil; want not proven", how)
			}
			pe := checkProofError(t, err, tt.c.Resource, errs.Invalid, tt.want...)
			// The English account the log and API clients read is unchanged.
			msg, _ := errs.Message(err)
			if prefix := "ownership of " + tt.c.Resource + " is not proven: "; !strings.HasPrefix(msg, prefix) || msg != pe.Error() {
				t.Errorf("message %q; want %q… equal to Error() %q", msg, prefix, pe.Error())
			}
			if tt.want[len(tt.want)-1].outcome == inventory.OutcomeRefusedByScope && !errors.Is(err, ErrFenced) {
				t.Errorf("%v does not wrap ErrFenced", err)
			}
		})
	}
	// The same servers prove what they should: the failures above are not the test's own.
	if how, err := (&Prover{Guard: withDNS}).Prove(t.Context(), challenge("", proven)); err != nil || how != "http "+proven {
		t.Errorf("Prove through the serving host = %q, %v", how, err)
	}
	z.setTXT("_khien-challenge.other.lab.test", "khien-verification="+token)
	if how, err := (&Prover{Guard: withDNS}).Prove(t.Context(), challenge("_khien-challenge.other.lab.test", closed)); err != nil || how != "dns-txt _khien-challenge.other.lab.test" {
		t.Errorf("Prove through the TXT record = %q, %v", how, err)
	}
}
