package scope

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Back-off after a throttling answer.
const (
	// MaxThrottle caps one pause, whatever Retry-After asks: a scan waits for a busy server,
	// it does not stall for an hour because a header said so.
	MaxThrottle = 60 * time.Second
	// firstBackoff is the pause after a throttling answer without a usable Retry-After; it
	// doubles with each such answer in a row.
	firstBackoff = time.Second
	// maxThrottleRecords bounds the back-offs a budget remembers for its report.
	maxThrottleRecords = 1000
)

// Throttle is one back-off: a server at Addr answered Status (429 or 503) and Khiên sent
// nothing more to that address until Until.
type Throttle struct {
	Addr       netip.Addr    `json:"address"`
	Status     int           `json:"status"`
	URL        string        `json:"url,omitempty"`
	RetryAfter string        `json:"retry_after,omitempty"` // the header as received, if any
	Delay      time.Duration `json:"delay_ns"`
	Until      time.Time     `json:"until"`
}

// Throttles returns the back-offs taken so far, oldest first.
func (b *Budget) Throttles() []Throttle {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Throttle(nil), b.throttles...)
}

// Throttle records that the server at t.Addr asked Khiên to slow down: no new connection and
// no request over a kept-alive one goes to the address before the pause ends. The pause is
// t.Delay when positive (from Retry-After), else an exponential back-off (1 s, 2 s, 4 s… for
// throttling answers in a row), capped at MaxThrottle either way; the address's connection
// rate is halved as after a reset. It returns t with Delay and Until filled in.
func (b *Budget) Throttle(t Throttle) Throttle {
	h := b.host(t.Addr)
	b.mu.Lock()
	now := b.now()
	if t.Delay <= 0 {
		t.Delay = firstBackoff << min(h.streak, 6)
	}
	t.Delay = min(t.Delay, MaxThrottle)
	h.streak++
	t.Until = now.Add(t.Delay)
	if t.Until.After(h.until) {
		h.until = t.Until
	}
	h.penalty = max(h.penalty/2, 0.1/b.Rate)
	if len(b.throttles) < maxThrottleRecords {
		b.throttles = append(b.throttles, t)
	}
	log := b.Log
	b.mu.Unlock()
	if log == nil {
		log = slog.Default()
	}
	log.Info("server asked to slow down: pausing requests to its address",
		"address", t.Addr.String(), "status", t.Status, "url", t.URL, "retry_after", t.RetryAfter, "pause", t.Delay)
	return t
}

// relax ends a's streak of throttling answers: the server answered normally.
func (b *Budget) relax(a netip.Addr) {
	h := b.host(a)
	b.mu.Lock()
	h.streak = 0
	b.mu.Unlock()
}

// waitThrottle waits until a's pause, if any, is over.
func (b *Budget) waitThrottle(ctx context.Context, a netip.Addr) error {
	h := b.host(a)
	for {
		b.mu.Lock()
		wait := h.until.Sub(b.now())
		b.mu.Unlock()
		if wait <= 0 {
			return nil
		}
		if err := b.pause(ctx, wait); err != nil {
			return err
		}
	}
}

// pause sleeps for d, or until ctx ends.
func (b *Budget) pause(ctx context.Context, d time.Duration) error {
	if b.sleep != nil {
		return b.sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

// throttling reports whether an HTTP status asks the client to slow down: 429 Too Many
// Requests (RFC 6585) and 503 Service Unavailable (RFC 9110 section 15.6.4).
func throttling(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// ParseRetryAfter reads a Retry-After field (RFC 9110 section 10.2.3): a number of seconds or
// an HTTP date, relative to now. ok is false for an absent or malformed value; a date in the
// past is a pause of zero.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			if strings.Trim(v, "0123456789") == "" { // all digits, just huge
				return MaxThrottle, true
			}
			return 0, false
		}
		return min(time.Duration(n)*time.Second, MaxThrottle), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), MaxThrottle), true
}
