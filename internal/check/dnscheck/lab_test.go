package dnscheck

import (
	"net"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/dnslab"
	"github.com/khien-vn/khien/internal/scope"
)

// startLab starts the DNS and mail lab for one test.
func startLab(t testing.TB) *dnslab.Lab {
	t.Helper()
	l, err := dnslab.StartLab(t.Context(), dnslab.LabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// labOptions points the families at the lab's ports.
func labOptions(l *dnslab.Lab) Options {
	return Options{SMTPPort: l.SMTPPort(), DNSPort: l.DNSPort()}
}

// resource returns a verified dns: resource for name.
func resource(name string) inventory.Resource {
	return inventory.Resource{ID: "dns:" + name, Scope: inventory.ScopeVerified}
}

// labEnv returns the environment the scope guard gives a family for r, with the resolver at
// server and the loopback fence: the same path a real scan takes.
func labEnv(t testing.TB, server string, r inventory.Resource, level scope.Level) check.Env {
	t.Helper()
	g := scope.New(scope.LoopbackFence(), server, 2*time.Second)
	env, err := g.Env(r, level, check.Env{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// closedPort returns a TCP port nothing listens on at host, a loopback address. Ask on the
// address that will be dialled: a port free on 127.0.0.1 may be a lab server's on 127.0.0.25.
func closedPort(t testing.TB, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// statuses runs a family and returns each check's status by id.
func statuses(t testing.TB, f check.Runner, r inventory.Resource, env check.Env) map[string]check.Result {
	t.Helper()
	out := map[string]check.Result{}
	for _, res := range f.Run(t.Context(), r, env) {
		out[res.Check] = res
	}
	return out
}
