package datalab

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/detect"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the lab's own self-signed certificate
	}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHosts(t *testing.T) {
	tests := []struct {
		kind      Kind
		tls       bool
		path      string
		status    int
		substring string
	}{
		{Leaky, false, "/", 200, "danh-sach-ho-tro.html"},
		{Leaky, true, "/thong-bao/danh-sach-ho-tro.html", 200, "Số CCCD: 001085000101"},
		{Leaky, false, "/van-ban/bao-cao-2026.html", 200, "TUYỆT MẬT"},
		{Leaky, false, "/robots.txt", 200, "Disallow: /quan-tri/"},
		{Leaky, false, "/nothing", 404, ""},
		{Clean, false, "/tin-tuc/chinh-sach-bao-mat.html", 200, "mật khẩu"},
		{Clean, true, "/", 200, "bí mật"},
		{Leaky, false, "/gioi-thieu.html", 200, `<script src="/static/js/cau-hinh.js"`},
		{Leaky, false, "/static/js/cau-hinh.js", 200, FakeServiceKey()},
		{Leaky, false, "/static/js/cau-hinh.js.map", 200, `"sourcesContent"`},
		{Clean, false, mainScriptPath + "?v=1", 200, FakeAnonKey()},
		{Clean, false, "/static/js/cau-hinh.js", 404, ""},
	}
	for _, tt := range tests {
		h, err := Start(t.Context(), tt.kind, Options{TLS: tt.tls})
		if err != nil {
			t.Fatal(err)
		}
		status, body := get(t, strings.TrimSuffix(h.URL, "/")+tt.path)
		if status != tt.status || !strings.Contains(body, tt.substring) {
			t.Errorf("%s %s%s = %d, want %d containing %q", tt.kind, h.URL, tt.path, status, tt.status, tt.substring)
		}
		h.Close()
	}
}

// The planted values are structurally valid, so the detectors must see them.
func TestPeopleAreValid(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range People() {
		if !detect.ValidCitizenID([]byte(p.CitizenID), now.Year()) {
			t.Errorf("%s: citizen ID %s is not valid", p.Name, p.CitizenID)
		}
		if !detect.ValidMobile([]byte(strings.ReplaceAll(p.Phone, " ", ""))) {
			t.Errorf("%s: phone %s is not a mobile number", p.Name, p.Phone)
		}
	}
}

func TestStartRefusesOtherAddresses(t *testing.T) {
	for _, addr := range []string{"192.0.2.1:0", "0.0.0.0:0", ":0", "localhost:0"} {
		if h, err := Start(t.Context(), Clean, Options{Addr: addr}); err == nil {
			h.Close()
			t.Errorf("Start on %q succeeded, want a refusal", addr)
		}
	}
	if _, err := Start(t.Context(), Kind("odd"), Options{}); err == nil {
		t.Error("Start of an unknown kind succeeded")
	}
}

func TestStartNAndCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	hosts, err := StartN(ctx, Leaky, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, h := range hosts {
		ip := strings.Split(h.Addr, ":")[0]
		if want := "127.0.1." + string(rune('1'+i)); ip != want || seen[ip] {
			t.Errorf("host %d on %s, want %s", i, h.Addr, want)
		}
		seen[ip] = true
		if status, _ := get(t, h.URL); status != 200 {
			t.Errorf("host %s: status %d", h.URL, status)
		}
	}
	cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for _, h := range hosts {
		for {
			resp, err := c.Get(h.URL)
			if err != nil {
				break
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatalf("host %s still serving after cancel", h.URL)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// The planted keys are JWTs the detector sees, and they differ only in their role.
func TestFakeKeys(t *testing.T) {
	for _, k := range []string{FakeServiceKey(), FakeAnonKey()} {
		if !detect.Scan([]byte(`var k = "`+k+`";`), detect.Secrets(), detect.Options{}).Reportable(detect.SecretJWT) {
			t.Errorf("%.12s… is not found as a JWT", k)
		}
	}
	if FakeServiceKey() != FakeServiceKey() || FakeServiceKey() == FakeAnonKey() {
		t.Error("the planted keys are not fixed, or not distinct")
	}
}
