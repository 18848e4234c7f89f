package exposurelab

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSites(t *testing.T) {
	ip := netip.MustParseAddr("127.0.24.1")
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	exposed, err := StartWeb(t.Context(), ip, ExposedSite())
	if err != nil {
		t.Fatal(err)
	}
	defer exposed.Close()
	clean, err := StartWebTLS(t.Context(), ip, CleanSite(now))
	if err != nil {
		t.Fatal(err)
	}
	defer clean.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	tests := []struct {
		url        string
		wantStatus int
		wantBody   string
	}{
		{exposed.URL + "/.git/HEAD", 200, "ref: refs/heads/main"},
		{exposed.URL + "/.env", 200, "DB_PASSWORD="},
		{exposed.URL + "/backup.sql", 200, "-- MySQL dump"},
		{exposed.URL + "/tai-lieu/", 200, "<title>Index of /tai-lieu</title>"},
		{exposed.URL + "/phpmyadmin/", 200, "pma_username"},
		{exposed.URL + "/.well-known/security.txt", 404, ""},
		{clean.URL + "/.git/HEAD", 200, "Không tìm thấy trang"},
		{clean.URL + "/.well-known/security.txt", 200, "Expires: 2027-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		status, body := get(t, c, tt.url)
		if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
			t.Errorf("GET %s = %d %.80q; want %d containing %q", tt.url, status, body, tt.wantStatus, tt.wantBody)
		}
	}
	if !strings.HasPrefix(clean.URL, "https://127.0.24.1:") {
		t.Errorf("TLS server URL = %s", clean.URL)
	}
}

func TestServices(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	ss, err := StartServices(ctx, netip.MustParseAddr("127.0.24.2"))
	if err != nil {
		t.Fatal(err)
	}
	ports := ss.Ports()
	if len(ports) != len(Protocols) || len(Databases)+len(RemoteAdmin) != len(Protocols) {
		t.Fatalf("Ports() = %v", ports)
	}
	// Banner-first protocols greet without being asked.
	for proto, want := range map[string]string{VNC: "RFB 003.008\n", Telnet: "\xff\xfb\x01"} {
		c, err := net.Dial("tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.24.2"), uint16(ports[proto][0])).String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, len(want))
		if _, err := io.ReadFull(bufio.NewReader(c), b); err != nil || string(b) != want {
			t.Errorf("%s greeting = %q, %v; want %q", proto, b, err, want)
		}
		c.Close()
	}
	cancel() // stopping the context closes every listener
	for _, s := range ss {
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", s.Addr.String(), time.Second)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Errorf("%s still accepts connections after its context ended", s.Name)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := ss.Close(); err != nil {
		t.Errorf("Close after cancel = %v", err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	if _, err := StartWeb(t.Context(), netip.MustParseAddr("192.0.2.1"), ExposedSite()); err == nil {
		t.Error("StartWeb on a non-loopback address succeeded")
	}
	if _, err := StartService(t.Context(), netip.MustParseAddr("127.0.0.1"), "ftp"); err == nil {
		t.Error("StartService with an unknown protocol succeeded")
	}
}

func TestAddrs(t *testing.T) {
	got := Addrs(netip.MustParseAddr("127.0.25.253"), 4)
	want := "127.0.25.253 127.0.25.254 127.0.26.1 127.0.26.2"
	var s []string
	for _, a := range got {
		s = append(s, a.String())
	}
	if strings.Join(s, " ") != want {
		t.Errorf("Addrs = %v, want %s", s, want)
	}
	if n := len(Addrs(netip.MustParseAddr("127.255.255.254"), 5)); n != 1 {
		t.Errorf("Addrs past the end of 127/8 gave %d addresses, want 1", n)
	}
}

// TestStartServiceAt binds the port it is given, as the lab orchestrator does with each
// protocol's standard port.
func TestStartServiceAt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.24.2:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	for _, proto := range []string{Redis, Elasticsearch} {
		s, err := StartServiceAt(t.Context(), ap, proto)
		if err != nil {
			t.Fatal(err)
		}
		if s.Addr != ap {
			t.Errorf("%s listens on %s, want %s", proto, s.Addr, ap)
		}
		s.Close()
	}
	if _, err := StartServiceAt(t.Context(), netip.MustParseAddrPort("192.0.2.1:6379"), Redis); err == nil {
		t.Error("StartServiceAt on a non-loopback address succeeded")
	}
}
