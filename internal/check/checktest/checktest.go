// Package checktest holds what the tests of the check families share: the rule that a
// Vietnamese reason never carries Go's English error text.
package checktest

import (
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
)

// GoErrorFragments are pieces of the text of Go's network, TLS and x509 errors. A Vietnamese
// reason is read by people who may not read English: the technical account belongs in the
// English reason and the evidence, never in the Vietnamese one.
var GoErrorFragments = []string{"dial tcp", "dial udp", "connect:", "x509:", "tls:", "EOF", "i/o timeout", "no such host",
	"remote error", "connection refused", "connection reset", "certificate signed by", "handshake failure"}

// GoErrorText returns the first fragment of Go's error text in s, or "".
func GoErrorText(s string) string {
	for _, f := range GoErrorFragments {
		if strings.Contains(s, f) {
			return f
		}
	}
	return ""
}

// VietnameseOnly fails t when res's Vietnamese reason carries Go's English error text.
func VietnameseOnly(t testing.TB, res check.Result) {
	t.Helper()
	if f := GoErrorText(res.Reason.VI); f != "" {
		t.Errorf("%s (%s): the Vietnamese reason carries %q: %s", res.Check, res.Status, f, res.Reason.VI)
	}
}
