package exposure

import (
	"strings"
	"testing"
)

func TestSimilarity(t *testing.T) {
	page := func(p string) string {
		return strings.Replace(soft404, "Trang bạn tìm", "Trang "+p+" bạn tìm", 1)
	}
	tests := []struct {
		name     string
		a, b     string
		min, max float64
	}{
		{"identical", soft404, soft404, 1, 1},
		{"both empty", "", "", 1, 1},
		{"one empty", "", soft404, 0, 0},
		{"path echoed", page("/khien4k2j9x0q1b7c3z5"), page("/.git/HEAD"), softThreshold, 1},
		{"unrelated html", soft404, `<html><head><title>phpMyAdmin</title></head><body><form id="login_form"><input name="pma_username"><input name="pma_password"></form></body></html>`, 0, 0.2},
		{"file vs page", soft404, "ref: refs/heads/main\n", 0, 0.05},
		{"short bodies", "Not found", "Not found.", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := similarity([]byte(tt.a), []byte(tt.b))
			if s < tt.min || s > tt.max {
				t.Errorf("similarity = %.3f, want in [%.2f, %.2f]", s, tt.min, tt.max)
			}
			if r := similarity([]byte(tt.b), []byte(tt.a)); r != s {
				t.Errorf("similarity is not symmetric: %.3f and %.3f", s, r)
			}
		})
	}
}

func TestSketchLargeBodies(t *testing.T) {
	// Two 64 KiB bodies sharing their first half have about 1/3 of their shingles in common
	// (32 Ki shared of 96 Ki in all); the bottom-k estimate should land near that.
	random := func(seed uint64, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			seed = seed*6364136223846793005 + 1442695040888963407
			b[i] = byte('a' + (seed>>33)%26)
		}
		return b
	}
	a := random(1, 64<<10)
	b := append(append([]byte{}, a[:32<<10]...), random(2, 32<<10)...)
	if s := similarity(a, b); s < 0.2 || s > 0.47 {
		t.Errorf("similarity of half-shared bodies = %.3f, want about 0.33", s)
	}
	if n := len(sketch(a)); n != sketchSize {
		t.Errorf("sketch has %d hashes, want %d", n, sketchSize)
	}
}
