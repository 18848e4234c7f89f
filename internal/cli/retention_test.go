package cli

import (
	"strings"
	"testing"
	"time"
)

func TestRetentionFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "400d", want: 400 * 24 * time.Hour},
		{in: " 30d ", want: 30 * 24 * time.Hour},
		{in: "9000h", want: 9000 * time.Hour},
		{in: "0d", wantErr: "number of days"},
		{in: "-3d", wantErr: "number of days"},
		{in: "1.5d", wantErr: "number of days"},
		{in: "forever", wantErr: "write days"},
		{in: "10m", wantErr: "at least an hour"},
	}
	for _, tt := range tests {
		var r retention
		err := r.Set(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
				t.Errorf("Set(%q) = %v, want an error naming the value and containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || time.Duration(r) != tt.want {
			t.Errorf("Set(%q) = %v, %v; want %v", tt.in, time.Duration(r), err, tt.want)
		}
	}
	r := retention(400 * 24 * time.Hour)
	if r.String() != "400d" {
		t.Errorf("String() = %q, want 400d", r.String())
	}
}
