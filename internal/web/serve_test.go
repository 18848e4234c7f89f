package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeGracefulShutdown starts a slow request, cancels the context, and checks that the
// server stops accepting, lets the request finish with 200, and then returns nil.
func TestServeGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	started, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- ServeListener(ctx, testLog(t), ln, slow) }()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Get("http://" + addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()

	<-started
	cancel()
	waitClosed(t, addr) // shutdown has begun: the listener is gone
	select {
	case err := <-served:
		t.Fatalf("ServeListener returned %v while a request was in flight", err)
	default:
	}
	close(release)

	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "finished" {
		t.Errorf("slow request = %d %q, %v; want 200 \"finished\"", r.status, r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("ServeListener = %v after a clean shutdown, want nil", err)
	}
}

// waitClosed waits until nothing accepts connections on addr.
func waitClosed(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
	}
	t.Fatalf("%s still accepts connections after the context was cancelled", addr)
}

func TestServe(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := Serve(ctx, testLog(t), "127.0.0.1:0", http.NotFoundHandler()); err != nil {
			t.Errorf("Serve with a cancelled context = %v, want nil", err)
		}
	})
	t.Run("bad address", func(t *testing.T) {
		err := Serve(t.Context(), testLog(t), "127.0.0.1:99999", http.NotFoundHandler())
		if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:99999") {
			t.Errorf("Serve on a bad address = %v, want a listen error", err)
		}
	})
	t.Run("closed listener", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		if err := ServeListener(t.Context(), nil, ln, http.NotFoundHandler()); err == nil || !strings.Contains(err.Error(), "serve http") {
			t.Errorf("ServeListener on a closed listener = %v, want a serve error", err)
		}
	})
	t.Run("serves", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h, _ := newTestServer(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		served := make(chan error, 1)
		go func() { served <- ServeListener(ctx, testLog(t), ln, h) }()
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get("http://" + ln.Addr().String() + "/api/v1/organizations/HN")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"code":"HN"`) {
			t.Errorf("GET over TCP = %d %s", resp.StatusCode, b)
		}
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeListener = %v, want nil", err)
		}
	})
}
