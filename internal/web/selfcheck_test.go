package web

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/httpcheck"
	"github.com/khien-vn/khien/internal/check/tlscheck"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/weblab"
	"github.com/khien-vn/khien/internal/scope"
)

// TestOwnChecksPass runs Khiên's own http.* and tls.* checks against its own server, served
// over TLS as `khien serve` does, under a name resolved by a loopback DNS server so that the
// checks that need a name (HSTS) apply. None may fail.
func TestOwnChecksPass(t *testing.T) {
	const name = "khien.lab.test"
	tp := newTwoProvinces(t)
	ca, err := weblab.NewCA("Khiên self-check CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(name)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, testLog(t), tls.NewListener(ln, TLSConfig(cert)), tp.srv) }()
	t.Cleanup(func() { cancel(); <-done })
	port := ln.Addr().(*net.TCPAddr).Port

	dnsAddr := startLoopbackDNS(t, name)
	id, err := inventory.Normalize("url:https://" + name + ":" + strconv.Itoa(port) + "/")
	if err != nil {
		t.Fatal(err)
	}
	r := inventory.Resource{ID: id, System: "khien", Scope: inventory.ScopeAssigned, ScopeReason: "self-check"}
	g := scope.New(scope.LoopbackFence(), dnsAddr, 5*time.Second)
	env, err := g.Env(r, scope.Passive, check.Env{UserAgent: "Khien-selfcheck", Timeout: 5 * time.Second, Roots: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	results := httpcheck.Family(httpcheck.Options{HTTPSPort: port, HTTPPort: closedPort}).Run(t.Context(), r, env)
	results = append(results, tlscheck.Family().Run(t.Context(), r, env)...)
	if len(results) < 20 {
		t.Fatalf("only %d results", len(results))
	}
	for _, res := range results {
		t.Logf("%-28s %-15s %s", res.Check, res.Status, res.Reason.EN)
		if res.Status == check.Fail || res.Status == check.Error {
			t.Errorf("%s = %s on Khiên's own server: %s", res.Check, res.Status, res.Reason.EN)
		}
	}
	// The pages a browser sees first answer with the same headers.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: name}}, Timeout: 5 * time.Second}
	resp, err := c.Get("https://" + ln.Addr().String() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("/login over TLS: CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
}

// startLoopbackDNS answers A queries for name with 127.0.0.1 and NXDOMAIN for anything else.
func startLoopbackDNS(t *testing.T, name string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) }, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		if strings.TrimSuffix(strings.ToLower(q.Name), ".") != name {
			m.Rcode = dns.RcodeNameError
		} else if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1).To4()})
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}
