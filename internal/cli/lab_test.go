package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer written by one goroutine and read by another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLabThenScan runs `khien lab` and then the scan command it prints, as a user would: the
// good host passes (exit 0), the bad one fails (exit 1), and a name outside the lab is refused.
func TestLabThenScan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the lab")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "lab.db")
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"--db", db, "lab", "--prefix", "127.202.0.0/16"}, Env{
			Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
			Getenv: func(string) string { return "" }, Version: "test",
		})
	}()
	var cmd string
	for deadline := time.Now().Add(20 * time.Second); cmd == "" && time.Now().Before(deadline); {
		select {
		case code := <-done:
			if (strings.Contains(stderr.String(), "CAP_NET_BIND_SERVICE") || strings.Contains(stderr.String(), "another lab running")) && os.Getenv("CI") != "true" {
				t.Skip(stderr.String())
			}
			t.Fatalf("khien lab exited with %d: %s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if m := regexp.MustCompile(`(?m)^  khien scan (.*)$`).FindStringSubmatch(stdout.String()); m != nil {
			cmd = m[1]
		}
	}
	if cmd == "" {
		t.Fatalf("khien lab printed no scan command:\n%s\n%s", stdout.String(), stderr.String())
	}
	defer func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("khien lab exited with %d: %s", code, stderr.String())
		}
	}()
	if _, err := os.Stat(filepath.Join(dir, "lab-ca.pem")); err != nil {
		t.Errorf("the lab CA was not written beside the store: %v", err)
	}
	args := strings.Fields(cmd)
	if args[0] != "--db" || args[1] != db || !strings.HasSuffix(args[len(args)-1], "bad.lab.khien.test") {
		t.Fatalf("unexpected scan command %q", cmd)
	}
	scan := func(targets ...string) (int, string, string) {
		return run(t, nil, append(append([]string{"scan", "--format", "json"}, args[:len(args)-2]...), targets...)...)
	}
	if code, out, errOut := scan("good.lab.khien.test"); code != ExitOK {
		t.Errorf("scan of the good host: exit %d, want 0\n%s\n%s", code, out, errOut)
	} else {
		var rep struct {
			Findings []struct{ Check, Result string }
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) == 0 {
			t.Error("the scan of the good host reported nothing")
		}
		for _, r := range rep.Findings {
			if r.Result == "fail" {
				t.Errorf("good host: %s fails", r.Check)
			}
		}
	}
	// The typical host sends HSTS for 180 days: short for Khiên, enough for the Observatory.
	for profile, want := range map[string]string{"khien": "fail", "observatory": "pass"} {
		_, out, errOut := scan("--profile", profile, "typical.lab.khien.test")
		var rep struct {
			Findings []struct {
				Check, Result string
				Evidence      map[string]any
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--profile %s: %v\n%s", profile, err, errOut)
		}
		seen := false
		for _, r := range rep.Findings {
			if r.Check == "http.hsts.short" {
				seen = true
				if r.Result != want || r.Evidence["profile"] != profile {
					t.Errorf("--profile %s: http.hsts.short %s, evidence profile %v; want %s", profile, r.Result, r.Evidence["profile"], want)
				}
			}
		}
		if !seen {
			t.Errorf("--profile %s: no http.hsts.short finding", profile)
		}
	}
	if code, _, errOut := scan("bad.lab.khien.test"); code != ExitBlocked {
		t.Errorf("scan of the bad host: exit %d, want 1: %s", code, errOut)
	}
	if code, _, errOut := scan("elsewhere.khien.test"); code != ExitUsage || !strings.Contains(errOut, "not in the inventory") {
		t.Errorf("scan of a name outside the lab: exit %d, want 2 (%s)", code, errOut)
	}
}

func TestCABeside(t *testing.T) {
	for dsn, want := range map[string]string{
		"./khien-lab.db":          "lab-ca.pem",
		"/var/lib/khien/k.db":     "/var/lib/khien/lab-ca.pem",
		"sqlite:///srv/x/k.db":    "/srv/x/lab-ca.pem",
		"postgres://u@h/khien":    "lab-ca.pem",
		"sqlite://relative/it.db": "relative/lab-ca.pem",
	} {
		if got := caBeside(dsn); got != want {
			t.Errorf("caBeside(%q) = %q, want %q", dsn, got, want)
		}
	}
}
