package scope

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/khien-vn/khien/internal/inventory"
)

// Prover checks ownership challenges over the fenced network: a DNS TXT record through the
// configured resolver, or the token served over plain HTTP at the well-known path; for a db:
// resource, the token left in the database itself, read by Database.
type Prover struct {
	Guard     *Guard
	UserAgent string
	// Database proves db: resources; nil refuses them, saying so.
	Database DatabaseProver
}

var _ inventory.Prover = (*Prover)(nil)

// Prove returns how c was met, or an *inventory.ProofError saying what each method found.
func (p *Prover) Prove(ctx context.Context, c inventory.Challenge) (string, error) {
	if c.Database != "" {
		return p.proveDatabase(ctx, c)
	}
	var tried []inventory.ProofAttempt
	if c.DNSName != "" {
		a := inventory.ProofAttempt{Method: inventory.ProofDNSTXT, Target: c.DNSName, Expected: c.DNSValue}
		if p.Guard.resolver == nil {
			a.Outcome, a.Detail = inventory.OutcomeNoResolver, "DNS: no resolver configured"
		} else {
			txts, err := p.Guard.resolver.TXT(ctx, c.DNSName)
			switch {
			case err != nil:
				a.Outcome, a.Err = inventory.OutcomeLookupFailed, err
				if errors.Is(err, ErrFenced) {
					// The resolver itself lies outside the fence: a configuration error.
					a.Outcome = inventory.OutcomeRefusedByScope
				}
				a.Detail = fmt.Sprintf("DNS TXT %s: %v", c.DNSName, err)
			case containsExact(txts, c.DNSValue):
				return "dns-txt " + c.DNSName, nil
			default:
				a.Outcome, a.Seen = inventory.OutcomeRecordMissing, len(txts)
				a.Detail = fmt.Sprintf("DNS TXT %s: %d record(s), none is %q", c.DNSName, len(txts), c.DNSValue)
			}
		}
		tried = append(tried, a)
	}
	a, ok := p.proveHTTP(ctx, c)
	if ok {
		return "http " + c.HTTPURL, nil
	}
	tried = append(tried, a)
	return "", &inventory.ProofError{Resource: c.Resource, Attempts: tried}
}

func containsExact(vs []string, want string) bool {
	for _, v := range vs {
		if strings.TrimSpace(v) == want {
			return true
		}
	}
	return false
}

// proveHTTP fetches c.HTTPURL and reports whether it served the token, and if not, why.
func (p *Prover) proveHTTP(ctx context.Context, c inventory.Challenge) (inventory.ProofAttempt, bool) {
	a := inventory.ProofAttempt{Method: inventory.ProofHTTP, Target: c.HTTPURL, Expected: c.Token}
	client := &http.Client{
		Timeout:   p.Guard.timeout,
		Transport: &http.Transport{DialContext: p.Guard.DialFenced, Proxy: nil, DisableKeepAlives: true},
		// Follow no redirects: the token must be served by the host itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.HTTPURL, nil)
	if err != nil {
		a.Outcome, a.Err, a.Detail = inventory.OutcomeHTTPUnreachable, err, fmt.Sprintf("HTTP %s: %v", c.HTTPURL, err)
		return a, false
	}
	if p.UserAgent != "" {
		req.Header.Set("User-Agent", p.UserAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		a.Outcome, a.Err, a.Detail = inventory.OutcomeHTTPUnreachable, err, fmt.Sprintf("HTTP %s: %v", c.HTTPURL, err)
		if errors.Is(err, ErrFenced) {
			a.Outcome = inventory.OutcomeRefusedByScope
		}
		return a, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == c.Token {
		return a, true
	}
	a.Outcome, a.Status = inventory.OutcomeHTTPBodyMismatch, resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		a.Outcome = inventory.OutcomeHTTPStatus
	}
	a.Detail = fmt.Sprintf("HTTP %s: status %d, body is not the token", c.HTTPURL, resp.StatusCode)
	return a, false
}
