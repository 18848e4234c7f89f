package exposure

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/checktest"
)

// TestErrorsReadInVietnamese points the family at a web port and a service port whose
// server hangs up on every connection: every web check is an error that says so in
// Vietnamese, while the English reason and the evidence keep Go's text.
func TestErrorsReadInVietnamese(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	r := verified("ip:127.0.0.1")
	env := labEnv(t, startDNS(t, nil), r)
	got := Family(Options{Ports: noServices(map[string][]int{HTTP: {port}})}).Run(t.Context(), r, env)
	n := 0
	for _, res := range got {
		checktest.VietnameseOnly(t, res)
		if res.Status != check.Error {
			continue
		}
		n++
		if !strings.Contains(res.Reason.VI, "máy đích đóng kết nối giữa chừng") {
			t.Errorf("%s: Vietnamese reason %q does not say the server hung up", res.Check, res.Reason.VI)
		}
		// The hang-up reads as EOF or as a reset, as the kernel's timing has it.
		ev, _ := json.Marshal(res.Evidence)
		if !strings.Contains(res.Reason.EN+string(ev), "EOF") && !strings.Contains(res.Reason.EN+string(ev), "connection reset") ||
			!strings.Contains(string(ev), `"error"`) {
			t.Errorf("%s: the English reason %q or the evidence %s lost Go's error", res.Check, res.Reason.EN, ev)
		}
	}
	if n == 0 {
		t.Fatal("no check reported an error")
	}
}

// TestServiceErrorsReadInVietnamese: a service probe that could not be made reads in
// Vietnamese from its recorded error.
func TestServiceErrorsReadInVietnamese(t *testing.T) {
	sp := serviceProbe{Endpoint: "192.0.2.1:445", Protocol: SMB, State: svcError,
		Err: "dial tcp 192.0.2.1:445: i/o timeout", why: check.Text{VI: "hết thời gian chờ: máy đích không trả lời kịp", EN: "timed out"}}
	res := serviceCheck(classRemoteAdmin)(observation{Services: []serviceProbe{sp}})
	checktest.VietnameseOnly(t, res)
	if res.Status != check.Error || !strings.Contains(res.Reason.VI, "hết thời gian chờ") || !strings.Contains(res.Reason.EN, sp.Err) {
		t.Errorf("= %s %+v", res.Status, res.Reason)
	}
}
