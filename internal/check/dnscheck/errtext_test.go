package dnscheck

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestErrorVI reads back in Vietnamese the text of real network errors, as the observation
// records them: no Go error text is left in it, and a pointer to the evidence is.
func TestErrorVI(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := net.Dial("tcp", addr)

	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	c, err := net.Dial("tcp", ln2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, timeout := c.Read(make([]byte, 1))

	tests := []struct {
		msg, want string
	}{
		{"connect: " + refused.Error(), "máy đích từ chối kết nối"},
		{"read: " + timeout.Error(), "hết thời gian chờ"},
		{"read: EOF", "máy đích đóng kết nối giữa chừng"},
		{"TLS handshake: remote error: tls: handshake failure", "bắt tay TLS thất bại"},
		{"TLS handshake: tls: failed to verify certificate: x509: certificate signed by unknown authority", "chứng thư số không xác minh được"},
		{"_dmarc.example.vn. TXT: the resolver answered SERVFAIL", "SERVFAIL"},
		{"something new", "lỗi kỹ thuật"},
	}
	for _, tt := range tests {
		got := errorVI(tt.msg)
		if !strings.Contains(got, tt.want) || !strings.Contains(got, "chi tiết ở bằng chứng") {
			t.Errorf("errorVI(%q) = %q, want %q and a pointer to the evidence", tt.msg, got, tt.want)
		}
		for _, f := range []string{"dial tcp", "connect:", "x509:", "tls:", "EOF", "i/o timeout", "remote error", "connection refused"} {
			if strings.Contains(got, f) {
				t.Errorf("errorVI(%q) = %q carries %q", tt.msg, got, f)
			}
		}
	}
	if got := failureVI(Query{Name: "_dmarc.example.vn.", Type: "TXT", Rcode: "SERVFAIL"}); got != "máy chủ phân giải trả lời SERVFAIL cho _dmarc.example.vn. TXT" {
		t.Errorf("failureVI = %q", got)
	}
}
