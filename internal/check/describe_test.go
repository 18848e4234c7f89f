package check_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/resolve"
)

type selfDescribed struct{}

func (selfDescribed) Error() string { return "custom" }
func (selfDescribed) Describe() check.Text {
	return check.Text{VI: "lý do riêng", EN: "its own reason"}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDescribeError: real failures on loopback (a closed port, a silent server, a TLS server
// that refuses the client's versions or is not trusted) and the resolver's errors are each
// said in Vietnamese without the technical English, which the English text keeps.
func TestDescribeError(t *testing.T) {
	ctx := t.Context()
	var d net.Dialer
	_, refused := d.DialContext(ctx, "tcp", closedPort(t))

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	conn, err := net.Dial("tcp", silent.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, timeout := conn.Read(make([]byte, 1))

	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	_, untrusted := tls.Dial("tcp", tlsSrv.Listener.Addr().String(), &tls.Config{ServerName: "127.0.0.1"})
	old := httptest.NewUnstartedServer(http.NotFoundHandler())
	old.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	old.StartTLS()
	defer old.Close()
	_, alert := tls.Dial("tcp", old.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})

	tests := []struct {
		name string
		err  error
		vi   string
	}{
		{"refused", fmt.Errorf("dial: %w", refused), "từ chối kết nối"},
		{"timeout", timeout, "hết thời gian chờ"},
		{"deadline", fmt.Errorf("observe: %w", context.DeadlineExceeded), "hết thời gian chờ"},
		{"cancelled", context.Canceled, "bị dừng"},
		{"untrusted", untrusted, "không được tin cậy"},
		{"tls alert", alert, "từ chối bắt tay TLS"},
		{"no such name", fmt.Errorf("dial x: %w", &resolve.NotFoundError{Name: "x.test.", Type: "A", Rcode: "NXDOMAIN"}), "không phân giải được"},
		{"no resolver", fmt.Errorf("dial x: %w", resolve.ErrNoServer), "--resolver"},
		{"its own words", fmt.Errorf("wrapped: %w", selfDescribed{}), "lý do riêng"},
		{"several attempts", &check.Attempts{What: "no web server answered", Where: []string{"https://x/", "http://x/"},
			Errs: []error{alert, fmt.Errorf("dial: %w", refused)}}, "https://x/: máy đích từ chối bắt tay TLS; http://x/: máy đích từ chối kết nối"},
		{"anything else", errors.New("strange failure"), "lỗi kỹ thuật"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("the loopback setup did not fail as the case needs")
			}
			got := check.DescribeError(tt.err)
			if !strings.Contains(got.VI, tt.vi) {
				t.Errorf("VI = %q, want it to say %q", got.VI, tt.vi)
			}
			if strings.Contains(got.VI, tt.err.Error()) {
				t.Errorf("VI = %q repeats the technical English %q", got.VI, tt.err.Error())
			}
			if !strings.HasSuffix(got.EN, "("+tt.err.Error()+")") {
				t.Errorf("EN = %q, want it to end with the error's own text", got.EN)
			}
		})
	}
}

// TestFamilyErrorReason: a family whose observation fails gives every check an Error result
// whose Vietnamese reason is Vietnamese, with the technical account in the evidence.
func TestFamilyErrorReason(t *testing.T) {
	addr := closedPort(t)
	f := check.Family[struct{}]{
		Name: "t",
		Observe: func(ctx context.Context, _ inventory.Resource, _ check.Env) (struct{}, error) {
			var d net.Dialer
			_, err := d.DialContext(ctx, "tcp", addr)
			return struct{}{}, err
		},
		Checks: []check.Check[struct{}]{{ID: "t.one"}, {ID: "t.two"}},
	}
	res := f.Run(t.Context(), inventory.Resource{ID: "url:http://" + addr + "/"}, check.Env{})
	for _, r := range res {
		if r.Status != check.Error || !strings.HasPrefix(r.Reason.VI, "Không quan sát được: máy đích từ chối kết nối") ||
			strings.Contains(r.Reason.VI, "connection refused") || !strings.Contains(fmt.Sprint(r.Evidence["error"]), "connection refused") {
			t.Errorf("%s: %+v", r.Check, r)
		}
	}
}
