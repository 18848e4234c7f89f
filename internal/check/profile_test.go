package check

import (
	"strings"
	"testing"
)

func TestParseProfile(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{"", "khien", ""},
		{"khien", "khien", ""},
		{"testssl", "testssl", ""},
		{"Observatory", "observatory", ""},
		{"ssllabs", "", `unknown profile "ssllabs": use one of khien, testssl, observatory`},
	} {
		got, err := ParseProfile(tt.in)
		if string(got) != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseProfile(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}
