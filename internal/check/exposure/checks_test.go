package exposure

import (
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

const soft404 = `<!DOCTYPE html><html><head><title>Không tìm thấy trang</title></head><body>
<header>Cổng thông tin điện tử</header><main><h1>Không tìm thấy trang</h1>
<p>Trang bạn tìm không tồn tại hoặc đã được chuyển đi. Vui lòng quay về trang chủ.</p></main>
<footer>Cơ quan chủ quản: Ủy ban nhân dân tỉnh. Địa chỉ: số 1 đường Trần Phú.</footer></body></html>`

func resp(status int, ctype, body string) response {
	return response{Status: status, ContentType: ctype, Body: []byte(body), Size: int64(len(body))}
}

// site builds one probed endpoint whose soft-404 page is base, with probes at the given
// paths, measuring their similarity to base as Observe does.
func site(base response, probes ...probe) webEndpoint {
	for i := range probes {
		probes[i].Similarity = similarity(base.Body, probes[i].Resp.Body)
	}
	return webEndpoint{Origin: "https://cong.example", Addr: "192.0.2.1:443", State: webOK, Baseline: base, Probes: probes}
}

func pr(k kind, p string, r response) probe {
	r.URL = "https://cong.example" + p
	return probe{Kind: k, Path: p, Resp: r}
}

func TestJudge(t *testing.T) {
	notFound := resp(404, "text/html", soft404)
	catchAll := resp(200, "text/html", soft404)
	tests := []struct {
		name     string
		base     response
		probe    probe
		wantHit  bool
		wantSig  bool
		setAside bool
	}{
		{"real HEAD behind a 404", notFound, pr(kindGit, "/.git/HEAD", resp(200, "text/plain", "ref: refs/heads/main\n")), true, true, false},
		{"real HEAD behind a soft 404", catchAll, pr(kindGit, "/.git/HEAD", resp(206, "", "ref: refs/heads/master\n")), true, true, false},
		{"soft 404 for HEAD", catchAll, pr(kindGit, "/.git/HEAD", catchAll), false, false, false},
		{"404 with a HEAD-like body", notFound, pr(kindGit, "/.git/HEAD", resp(404, "text/plain", "ref: refs/heads/main\n")), false, false, false},
		// A catch-all page that happens to carry the signature: the hit is the soft-404 page.
		{"catch-all echoing a listing", resp(200, "text/html", "<title>Index of /x</title>"+soft404),
			pr(kindListing, "/uploads/", resp(200, "text/html", "<title>Index of /uploads/</title>"+soft404)), false, true, true},
		{"identical to the baseline", resp(200, "text/plain", "A=1\nB=2\n"), pr(kindEnv, "/.env", resp(200, "text/plain", "A=1\nB=2\n")), false, true, true},
		{"transport error", notFound, pr(kindEnv, "/.env", response{Err: "connection reset"}), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.probe.Similarity = similarity(tt.base.Body, tt.probe.Resp.Body)
			v := judge(tt.probe.Kind, tt.base, tt.probe)
			if v.Hit != tt.wantHit || (v.Match != "") != tt.wantSig || (v.SetAside != "") != tt.setAside {
				t.Errorf("judge = %+v; want hit %v, signature %v, set aside %v", v, tt.wantHit, tt.wantSig, tt.setAside)
			}
		})
	}
}

func TestPathCheck(t *testing.T) {
	notFound := resp(404, "text/html", soft404)
	catchAll := resp(200, "text/html", soft404)
	head := resp(200, "application/octet-stream", "ref: refs/heads/main\n")
	tests := []struct {
		name         string
		web          []webEndpoint
		want         check.Status
		wantEndpoint string
	}{
		{"no web server", []webEndpoint{{Origin: "https://cong.example", Addr: "192.0.2.1:443", State: webClosed, Err: "connection refused"}},
			check.NotApplicable, ""},
		{"redirect only", []webEndpoint{{Origin: "http://cong.example", State: webRedirects, Baseline: response{Status: 301, Location: "https://cong.example/"}}},
			check.NotApplicable, ""},
		{"exposed", []webEndpoint{site(notFound, pr(kindGit, "/.git/HEAD", head))}, check.Fail, "https://cong.example/.git/HEAD"},
		{"soft 404 everywhere", []webEndpoint{site(catchAll, pr(kindGit, "/.git/HEAD", catchAll), pr(kindGit, "/.git/config", catchAll))}, check.Pass, ""},
		{"worst endpoint decides", []webEndpoint{
			site(catchAll, pr(kindGit, "/.git/HEAD", catchAll)),
			site(notFound, pr(kindGit, "/.git/HEAD", head)),
		}, check.Fail, "https://cong.example/.git/HEAD"},
		{"an error outweighs a pass", []webEndpoint{
			site(catchAll, pr(kindGit, "/.git/HEAD", catchAll)),
			{Origin: "http://cong.example", Addr: "192.0.2.1:80", State: webError, Err: "tls: handshake failure"},
		}, check.Error, ""},
		{"a failing path", []webEndpoint{site(notFound, pr(kindGit, "/.git/HEAD", response{Err: "timeout"}))}, check.Error, ""},
		{"other kinds are not looked at", []webEndpoint{site(notFound, pr(kindEnv, "/.git/HEAD", head))}, check.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pathCheck(kindGit)(observation{Host: "cong.example", Web: tt.web, WebPorts: "https 443, http 80"})
			if got.Status != tt.want || got.Endpoint != tt.wantEndpoint {
				t.Errorf("pathCheck = %s at %q (%s); want %s at %q", got.Status, got.Endpoint, got.Reason.EN, tt.want, tt.wantEndpoint)
			}
			if got.Reason.VI == "" || got.Reason.EN == "" || got.Evidence == nil {
				t.Errorf("pathCheck gave no reason or evidence: %+v", got)
			}
		})
	}
}

func TestSecurityTxt(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	notFound := resp(404, "text/html", soft404)
	valid := "Contact: mailto:security@cong.example\nExpires: 2027-01-01T00:00:00Z\n"
	signed := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n- Contact: https://cong.example/lien-he\nExpires: 2027-01-01T00:00:00Z\n" +
		"-----BEGIN PGP SIGNATURE-----\nContact: mailto:not-counted@example\n-----END PGP SIGNATURE-----\n"
	tests := []struct {
		name string
		r    response
		want check.Status
		why  string // substring of the English reason
	}{
		{"valid", resp(200, "text/plain; charset=utf-8", valid), check.Pass, "has not expired"},
		{"valid, ranged", resp(206, "text/plain", valid), check.Pass, ""},
		{"signed", resp(200, "text/plain", signed), check.Pass, ""},
		{"no Expires still counts", resp(200, "text/plain", "Contact: mailto:a@cong.example\n"), check.Pass, ""},
		{"missing", notFound, check.Fail, "status 404"},
		{"expired", resp(200, "text/plain", "Contact: mailto:a@cong.example\nExpires: 2026-01-01T00:00:00Z\n"), check.Fail, "expired"},
		{"no contact", resp(200, "text/plain", "Expires: 2027-01-01T00:00:00Z\nPolicy: https://cong.example/p\n"), check.Fail, "no Contact"},
		{"soft 404", resp(200, "text/html", soft404), check.Fail, "soft-404"},
		{"html page", resp(200, "text/html", "<html><body>Contact: mailto:a@cong.example</body></html>"), check.Fail, "HTML"},
		{"read error", response{Err: "timeout"}, check.Error, "timeout"},
		{"redirected to www", response{Status: 301, Location: "https://www.cong.example/.well-known/security.txt"}, check.NotApplicable, "redirected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := observation{At: now, Host: "cong.example", Web: []webEndpoint{
				site(notFound, pr(kindSecurityTxt, "/.well-known/security.txt", tt.r)),
			}}
			got := securityTxtMissing(o)
			if got.Status != tt.want || !strings.Contains(got.Reason.EN, tt.why) {
				t.Errorf("securityTxtMissing = %s (%s); want %s with %q", got.Status, got.Reason.EN, tt.want, tt.why)
			}
		})
	}
	if got := securityTxtMissing(observation{Host: "cong.example"}); got.Status != check.NotApplicable {
		t.Errorf("securityTxtMissing without web = %s, want not_applicable", got.Status)
	}
}

func TestParseSecurityTxt(t *testing.T) {
	s := parseSecurityTxt([]byte("# comment\r\nCONTACT: mailto:a@b.example\r\ncontact: tel:+84\r\nExpires: 2027-01-01T07:00:00+07:00\r\nbogus line\r\n"))
	if len(s.Contacts) != 2 || !s.ExpiresAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || s.Signed {
		t.Errorf("parseSecurityTxt = %+v", s)
	}
}

func TestServiceCheck(t *testing.T) {
	tests := []struct {
		name  string
		class serviceClass
		sps   []serviceProbe
		want  check.Status
		why   string
	}{
		{"nothing configured", classDatabase, nil, check.NotApplicable, "No ports"},
		{"identified", classDatabase, []serviceProbe{
			{Endpoint: "db.example|192.0.2.1:5432", Protocol: PostgreSQL, State: svcClosed},
			{Endpoint: "db.example|192.0.2.1:6379", Protocol: Redis, State: svcIdentified, Details: map[string]string{"auth": "none: commands run without a password", "version": "7.2.4"}},
		}, check.Fail, "Redis 7.2.4 at db.example|192.0.2.1:6379 (no password needed)"},
		{"noauth is still exposed", classDatabase, []serviceProbe{
			{Endpoint: "192.0.2.1:6379", Protocol: Redis, State: svcIdentified, Details: map[string]string{"auth": "required (NOAUTH)"}},
		}, check.Fail, "Redis at 192.0.2.1:6379."},
		{"open but another protocol", classRemoteAdmin, []serviceProbe{
			{Endpoint: "192.0.2.1:3389", Protocol: RDP, State: svcOther, First: "485454502f"},
		}, check.Pass, "None of RDP, Telnet, VNC, SMB"},
		{"filtered", classRemoteAdmin, []serviceProbe{{Endpoint: "192.0.2.1:23", Protocol: Telnet, State: svcFiltered}}, check.Pass, ""},
		{"other class ignored", classRemoteAdmin, []serviceProbe{{Endpoint: "192.0.2.1:3306", Protocol: MySQL, State: svcIdentified}}, check.NotApplicable, ""},
		{"error", classRemoteAdmin, []serviceProbe{{Endpoint: "192.0.2.1:445", Protocol: SMB, State: svcError, Err: "address outside the authorized scope"}}, check.Error, "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serviceCheck(tt.class)(observation{Services: tt.sps})
			if got.Status != tt.want || !strings.Contains(got.Reason.EN, tt.why) || got.Reason.VI == "" {
				t.Errorf("serviceCheck = %s (%s); want %s with %q", got.Status, got.Reason.EN, tt.want, tt.why)
			}
		})
	}
}

func TestFamilyIDs(t *testing.T) {
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	f := Family(Options{})
	ids := f.CheckIDs()
	if len(ids) != 8 || !f.IsActive() {
		t.Fatalf("family has %d checks (active %v), want 8 active", len(ids), f.IsActive())
	}
	for _, id := range ids {
		d, ok := cat.Def(id)
		if !ok {
			t.Errorf("%s is not in the catalog", id)
			continue
		}
		if strings.Contains(d.Remediation.EN, "TODO") || len(d.References) == 0 || d.Detect == "" {
			t.Errorf("%s: catalog entry incomplete: %+v", id, d)
		}
	}
}
