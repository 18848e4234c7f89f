// Package check defines what a check is: a stable catalog entry (id, severity, bilingual title
// and remediation, references) and a pure function that turns one observation of a resource
// into a verdict with its evidence.
//
// A Family observes a resource once (a dozen handshakes, one crawl) and evaluates each of its
// checks on that observation, so a host costs a few connections rather than one per check and
// every check can be table-tested without a network. Families reach the outside world only
// through Env.Dial and Env.Resolver, which the scope package guards.
package check

import (
	"context"
	"crypto/x509"
	"maps"
	"net"
	"time"

	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/inventory"
)

// Status is a check's verdict.
type Status string

// The four verdicts. Unreachable or timed out is Error with the reason, never Fail.
const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	Error         Status = "error"
	NotApplicable Status = "not_applicable"
)

// Severity ranks how much a failing check matters.
type Severity string

// Severities, from most to least serious.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Rank orders severities: critical 4 … info 0; unknown -1.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	case Info:
		return 0
	}
	return -1
}

// Text is a message in Vietnamese (first) and English.
type Text struct {
	VI string `json:"vi" yaml:"vi"`
	EN string `json:"en" yaml:"en"`
}

// Result is one check's verdict on one endpoint of a resource, with what was observed.
type Result struct {
	Check    string // catalog id, e.g. "tls.protocol.tls10"
	Resource string // unified identifier of the resource assessed
	// Endpoint names what was looked at precisely: "name|address:port" for a connection,
	// the DNS name for a record, the URL for a page. With Check it is the finding's fingerprint.
	Endpoint string
	Status   Status
	Reason   Text           // why, in words a person can read
	Evidence map[string]any // what was observed, enough to replay and dispute the verdict
	At       time.Time
}

// Resolver answers the DNS questions a scan asks, through the one resolver configured for it.
type Resolver interface {
	// Addrs returns the A and AAAA addresses of name.
	Addrs(ctx context.Context, name string) ([]net.IP, error)
}

// Env is everything a family may use to observe a resource. It is built per resource by the
// scope guard, so Dial refuses any address the resource's scope and the safety fence do not
// allow.
type Env struct {
	Dial     func(ctx context.Context, network, address string) (net.Conn, error)
	Resolver Resolver
	Now      func() time.Time
	Timeout  time.Duration  // per network operation
	Roots    *x509.CertPool // trust store for certificate chains; nil means the system's
	// UserAgent identifies Khiên to the agencies it scans, with a contact.
	UserAgent string
	// Web, when set, hands out HTTP transports whose keep-alive connections every web family
	// observing this resource shares, and which back off when a server answers 429 or 503.
	// Nil (a family run on its own) means each family builds its own (webclient.For).
	Web webclient.Transports
	// Memo remembers answers for the length of one scan, so that resources sharing something
	// (a zone's name servers) ask it once. Nil means nothing is shared.
	Memo *Memo
}

// Check is one catalog entry evaluated over a family's observation O.
type Check[O any] struct {
	ID       string
	Evaluate func(O) Result // fills Status, Reason, Evidence and, when it has one, Endpoint
}

// Family groups checks that share one observation.
type Family[O any] struct {
	Name string
	// Active families send more than an ordinary client would (zone transfers, service
	// handshakes, path probing) and need a verified resource.
	Active  bool
	Applies func(inventory.Resource) bool
	Observe func(ctx context.Context, r inventory.Resource, env Env) (O, error)
	Checks  []Check[O]
	// ErrorEvidence is added to the evidence of every Error result of a failed observation:
	// what the family was built with and its verdicts otherwise carry (the grading profile of
	// the tls and http families), so that an error result can be told apart by it too.
	ErrorEvidence map[string]any
}

// Runner is a Family with its observation type erased, so families can share one list.
type Runner interface {
	FamilyName() string
	IsActive() bool
	CheckIDs() []string
	AppliesTo(inventory.Resource) bool
	Run(ctx context.Context, r inventory.Resource, env Env) []Result
}

// FamilyName returns the family's name.
func (f Family[O]) FamilyName() string { return f.Name }

// IsActive reports whether the family needs a verified resource.
func (f Family[O]) IsActive() bool { return f.Active }

// CheckIDs lists the ids of the family's checks in order.
func (f Family[O]) CheckIDs() []string {
	ids := make([]string, len(f.Checks))
	for i, c := range f.Checks {
		ids[i] = c.ID
	}
	return ids
}

// AppliesTo reports whether the family looks at resources like r.
func (f Family[O]) AppliesTo(r inventory.Resource) bool { return f.Applies == nil || f.Applies(r) }

// Run observes r once and evaluates every check. If observation fails, every check reports
// Error with the reason: an unreachable host is not a failing host.
func (f Family[O]) Run(ctx context.Context, r inventory.Resource, env Env) []Result {
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	at := now().UTC()
	out := make([]Result, 0, len(f.Checks))
	o, err := f.Observe(ctx, r, env)
	var failed Text // why observation failed, said once for every check
	if err != nil {
		why := DescribeError(err)
		failed = Text{VI: "Không quan sát được: " + why.VI, EN: "could not observe: " + why.EN}
	}
	for _, c := range f.Checks {
		var res Result
		if err != nil {
			ev := make(map[string]any, len(f.ErrorEvidence)+1)
			maps.Copy(ev, f.ErrorEvidence)
			ev["error"] = err.Error()
			res = Result{Status: Error, Reason: failed, Evidence: ev}
		} else {
			res = c.Evaluate(o)
		}
		res.Check, res.Resource, res.At = c.ID, r.ID, at
		if res.Endpoint == "" {
			res.Endpoint = r.ID
		}
		out = append(out, res)
	}
	return out
}
