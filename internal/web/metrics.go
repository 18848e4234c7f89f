package web

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// metrics is the server's small Prometheus registry: a request counter, a duration
// histogram and the build info, written in the text exposition format 0.0.4. It lives in
// the server value, not in a global, so two servers in one test count apart. Twenty lines
// of formatting do not justify the client library.
type metrics struct {
	version string
	buckets []float64 // upper bounds in seconds, ascending

	mu        sync.Mutex
	requests  map[requestKey]uint64
	durations map[routeKey]*histogram
}

type routeKey struct{ method, route string }

type requestKey struct {
	routeKey
	code string
}

// histogram holds per-bucket counts (not cumulative; the writer sums them), the sum and
// the count of observations.
type histogram struct {
	counts []uint64
	sum    float64
	count  uint64
}

func newMetrics(version string) *metrics {
	return &metrics{
		version: version,
		// Prometheus's default buckets: API calls take milliseconds, verification seconds.
		buckets:   []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		requests:  map[requestKey]uint64{},
		durations: map[routeKey]*histogram{},
	}
}

// observe records one request.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	rk := routeKey{method: methodLabel(method), route: route}
	secs := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[requestKey{rk, strconv.Itoa(status)}]++
	h := m.durations[rk]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(m.buckets))}
		m.durations[rk] = h
	}
	if i, _ := slices.BinarySearch(m.buckets, secs); i < len(m.buckets) {
		h.counts[i]++ // the first bucket whose bound is >= secs
	}
	h.sum += secs
	h.count++
}

// methodLabel keeps the method label to the standard methods, so that a client cannot grow
// the label set without bound.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// writeTo writes every metric in the text exposition format, series in a stable order.
func (m *metrics) writeTo(w io.Writer) error {
	m.mu.Lock()
	reqKeys := slices.SortedFunc(maps.Keys(m.requests), func(a, b requestKey) int {
		return cmp.Or(compareRoute(a.routeKey, b.routeKey), cmp.Compare(a.code, b.code))
	})
	reqs := make([]uint64, len(reqKeys))
	for i, k := range reqKeys {
		reqs[i] = m.requests[k]
	}
	durKeys := slices.SortedFunc(maps.Keys(m.durations), compareRoute)
	durs := make([]histogram, len(durKeys))
	for i, k := range durKeys {
		h := *m.durations[k]
		h.counts = slices.Clone(h.counts)
		durs[i] = h
	}
	m.mu.Unlock()

	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# HELP khien_http_requests_total HTTP requests served, by method, route pattern and status code.")
	fmt.Fprintln(bw, "# TYPE khien_http_requests_total counter")
	for i, k := range reqKeys {
		fmt.Fprintf(bw, "khien_http_requests_total{method=%s,route=%s,code=%s} %d\n",
			quoteLabel(k.method), quoteLabel(k.route), quoteLabel(k.code), reqs[i])
	}
	fmt.Fprintln(bw, "# HELP khien_http_request_duration_seconds Time to serve HTTP requests, by method and route pattern.")
	fmt.Fprintln(bw, "# TYPE khien_http_request_duration_seconds histogram")
	for i, k := range durKeys {
		labels := "method=" + quoteLabel(k.method) + ",route=" + quoteLabel(k.route)
		var cum uint64
		for j, le := range m.buckets {
			cum += durs[i].counts[j]
			fmt.Fprintf(bw, "khien_http_request_duration_seconds_bucket{%s,le=%s} %d\n", labels, quoteLabel(formatFloat(le)), cum)
		}
		fmt.Fprintf(bw, "khien_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, durs[i].count)
		fmt.Fprintf(bw, "khien_http_request_duration_seconds_sum{%s} %s\n", labels, formatFloat(durs[i].sum))
		fmt.Fprintf(bw, "khien_http_request_duration_seconds_count{%s} %d\n", labels, durs[i].count)
	}
	fmt.Fprintln(bw, "# HELP khien_build_info The version of this Khiên build; the value is always 1.")
	fmt.Fprintln(bw, "# TYPE khien_build_info gauge")
	fmt.Fprintf(bw, "khien_build_info{version=%s} 1\n", quoteLabel(m.version))
	return bw.Flush()
}

func compareRoute(a, b routeKey) int {
	return cmp.Or(cmp.Compare(a.route, b.route), cmp.Compare(a.method, b.method))
}

// quoteLabel quotes a label value as the exposition format wants: backslash, double quote
// and newline escaped, everything else (UTF-8 included) as is.
func quoteLabel(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}
