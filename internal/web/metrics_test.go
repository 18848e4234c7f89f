package web

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sample is one line of the text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseExposition parses the text format strictly enough to catch what Prometheus would
// refuse: every sample belongs to a family declared by a TYPE line before it, label values
// are quoted and escaped, values are numbers.
func parseExposition(t *testing.T, text string) []sample {
	t.Helper()
	types := map[string]string{}
	var out []sample
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			types[name] = typ
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		family := s.name
		if types[family] == "" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if f, ok := strings.CutSuffix(s.name, suffix); ok && types[f] == "histogram" {
					family = f
				}
			}
		}
		if types[family] == "" {
			t.Errorf("line %d %q: no TYPE line before it", i+1, line)
		}
		out = append(out, s)
	}
	return out
}

func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no metric name")
	}
	s.name, line = line[:i], line[i:]
	if strings.HasPrefix(line, "{") {
		line = line[1:]
		for !strings.HasPrefix(line, "}") {
			name, rest, ok := strings.Cut(line, `="`)
			if !ok {
				return s, fmt.Errorf("label without a quoted value at %q", line)
			}
			var val strings.Builder
			for j := 0; ; j++ {
				if j >= len(rest) {
					return s, fmt.Errorf("unterminated label value")
				}
				c := rest[j]
				if c == '"' {
					line = rest[j+1:]
					break
				}
				if c == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						c = '\n'
					case '\\', '"':
						c = rest[j]
					default:
						return s, fmt.Errorf("bad escape \\%c", rest[j])
					}
				}
				val.WriteByte(c)
			}
			s.labels[name] = val.String()
			line = strings.TrimPrefix(line, ",")
		}
		line = line[1:]
	}
	v, ok := strings.CutPrefix(line, " ")
	if !ok {
		return s, fmt.Errorf("no space before the value")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return s, fmt.Errorf("value: %v", err)
	}
	s.value = f
	return s, nil
}

// find returns the value of the one sample with name and exactly these labels ("k", "v", …).
func find(samples []sample, name string, kv ...string) (float64, bool) {
	want := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		want[kv[i]] = kv[i+1]
	}
	for _, s := range samples {
		if s.name == name && maps.Equal(s.labels, want) {
			return s.value, true
		}
	}
	return 0, false
}

func TestMetricsEndpoint(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	requests := []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/healthz"},
		{"GET", "/api/v1/organizations/HN"},
		{"GET", "/api/v1/organizations/XX"},
		{"PATCH", "/api/v1/organizations"},
		{"GET", "/no/such/page"},
		{"BREW", "/healthz"},
	}
	for _, r := range requests {
		do(t, srv, r.method, r.path, "")
	}
	rec := do(t, srv, "GET", "/metrics", "")
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d %s", rec.Code, rec.Body)
	}
	samples := parseExposition(t, rec.Body.String())

	counters := []struct {
		method, route, code string
		want                float64
	}{
		{"GET", "/healthz", "200", 2},
		{"GET", "/api/v1/organizations/{code}", "200", 1},
		{"GET", "/api/v1/organizations/{code}", "404", 1},
		{"PATCH", "unmatched", "405", 1}, // no route: the path is not a label
		{"GET", "unmatched", "404", 1},
		{"OTHER", "unmatched", "405", 1}, // unknown methods share one label
	}
	for _, c := range counters {
		got, ok := find(samples, "khien_http_requests_total", "method", c.method, "route", c.route, "code", c.code)
		if !ok || got != c.want {
			t.Errorf("khien_http_requests_total{method=%q,route=%q,code=%q} = %v (found %v), want %v", c.method, c.route, c.code, got, ok, c.want)
		}
	}
	var total float64
	for _, s := range samples {
		if s.name == "khien_http_requests_total" {
			total += s.value
		}
	}
	if total != float64(len(requests)) {
		t.Errorf("requests counted = %v, want %d", total, len(requests))
	}

	// The test clock is fixed, so every request took 0s and sits in the first bucket.
	labels := []string{"method", "GET", "route", "/healthz"}
	for _, le := range []string{"0.005", "0.1", "10", "+Inf"} {
		if got, _ := find(samples, "khien_http_request_duration_seconds_bucket", append(labels, "le", le)...); got != 2 {
			t.Errorf("duration bucket le=%s for GET /healthz = %v, want 2", le, got)
		}
	}
	if got, _ := find(samples, "khien_http_request_duration_seconds_count", labels...); got != 2 {
		t.Errorf("duration count for GET /healthz = %v, want 2", got)
	}
	if got, ok := find(samples, "khien_http_request_duration_seconds_sum", labels...); !ok || got != 0 {
		t.Errorf("duration sum for GET /healthz = %v (found %v), want 0", got, ok)
	}
	if got, ok := find(samples, "khien_build_info", "version", "v0.1.0-test"); !ok || got != 1 {
		t.Errorf("khien_build_info{version=\"v0.1.0-test\"} = %v (found %v), want 1", got, ok)
	}
}

func TestMetricsHistogram(t *testing.T) {
	m := newMetrics(`v1 "quoted" \ back` + "\nslash")
	for _, d := range []time.Duration{0, 5 * time.Millisecond, 7 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second, time.Minute} {
		m.observe("PUT", "/api/v1/systems/{id}", 200, d)
	}
	var buf bytes.Buffer
	if err := m.writeTo(&buf); err != nil {
		t.Fatal(err)
	}
	samples := parseExposition(t, buf.String())

	want := map[string]float64{ // cumulative, le inclusive
		"0.005": 2, "0.01": 3, "0.025": 3, "0.05": 3, "0.1": 3, "0.25": 3, "0.5": 4, "1": 4, "2.5": 5, "5": 5, "10": 5, "+Inf": 6,
	}
	for _, le := range slices.Sorted(maps.Keys(want)) {
		got, ok := find(samples, "khien_http_request_duration_seconds_bucket", "method", "PUT", "route", "/api/v1/systems/{id}", "le", le)
		if !ok || got != want[le] {
			t.Errorf("bucket le=%s = %v (found %v), want %v", le, got, ok, want[le])
		}
	}
	if got, _ := find(samples, "khien_http_request_duration_seconds_sum", "method", "PUT", "route", "/api/v1/systems/{id}"); math.Abs(got-62.312) > 1e-9 {
		t.Errorf("sum = %v, want 62.312", got)
	}
	if _, ok := find(samples, "khien_build_info", "version", `v1 "quoted" \ back`+"\nslash"); !ok {
		t.Errorf("build info version label did not survive escaping:\n%s", buf.String())
	}
}
