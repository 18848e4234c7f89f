package scope

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/khien-vn/khien/internal/errs"
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

// Prove returns how c was met, or an Invalid error saying what each method found.
func (p *Prover) Prove(ctx context.Context, c inventory.Challenge) (string, error) {
	if c.Database != "" {
		return p.proveDatabase(ctx, c)
	}
	var tried []string
	if c.DNSName != "" {
		if p.Guard.resolver == nil {
			tried = append(tried, "DNS: no resolver configured")
		} else {
			txts, err := p.Guard.resolver.TXT(ctx, c.DNSName)
			switch {
			case err != nil:
				tried = append(tried, fmt.Sprintf("DNS TXT %s: %v", c.DNSName, err))
			case containsExact(txts, c.DNSValue):
				return "dns-txt " + c.DNSName, nil
			default:
				tried = append(tried, fmt.Sprintf("DNS TXT %s: %d record(s), none is %q", c.DNSName, len(txts), c.DNSValue))
			}
		}
	}
	ok, detail := p.proveHTTP(ctx, c)
	if ok {
		return "http " + c.HTTPURL, nil
	}
	tried = append(tried, detail)
	return "", errs.E(errs.Invalid, "ownership of %s is not proven: %s", c.Resource, strings.Join(tried, "; "))
}

func containsExact(vs []string, want string) bool {
	for _, v := range vs {
		if strings.TrimSpace(v) == want {
			return true
		}
	}
	return false
}

func (p *Prover) proveHTTP(ctx context.Context, c inventory.Challenge) (bool, string) {
	client := &http.Client{
		Timeout:   p.Guard.timeout,
		Transport: &http.Transport{DialContext: p.Guard.DialFenced, Proxy: nil, DisableKeepAlives: true},
		// Follow no redirects: the token must be served by the host itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.HTTPURL, nil)
	if err != nil {
		return false, fmt.Sprintf("HTTP %s: %v", c.HTTPURL, err)
	}
	if p.UserAgent != "" {
		req.Header.Set("User-Agent", p.UserAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Sprintf("HTTP %s: %v", c.HTTPURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == c.Token {
		return true, ""
	}
	return false, fmt.Sprintf("HTTP %s: status %d, body is not the token", c.HTTPURL, resp.StatusCode)
}
