package auth

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHOTPRFC6238 checks the SHA-1 test vectors of RFC 6238, Appendix B: eight digits, a
// 30-second step, the ASCII seed "12345678901234567890".
func TestHOTPRFC6238(t *testing.T) {
	key := []byte("12345678901234567890")
	tests := []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tt := range tests {
		if got := hotp(key, totpCounter(time.Unix(tt.unix, 0)), 8); got != tt.want {
			t.Errorf("T=%d: %s, want %s", tt.unix, got, tt.want)
		}
	}
}

// TestHOTPRFC4226 checks the first HOTP values of RFC 4226, Appendix D (six digits).
func TestHOTPRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := hotp([]byte("12345678901234567890"), uint64(i), 6); got != w {
			t.Errorf("counter %d: %s, want %s", i, got, w)
		}
	}
}

func TestCheckTOTP(t *testing.T) {
	secret := b32.EncodeToString([]byte("12345678901234567890"))
	now := time.Unix(1111111111, 0)
	code, err := TOTP(secret, now)
	if err != nil || code != "050471" { // the last six digits of RFC 6238's 14050471
		t.Fatalf("TOTP = %q, %v", code, err)
	}
	step := int64(totpCounter(now))
	tests := []struct {
		name string
		code string
		at   time.Time
		last int64
		ok   bool
	}{
		{"now", code, now, 0, true},
		{"typed with spaces", "050 471", now, 0, true},
		{"one step late", code, now.Add(30 * time.Second), 0, true},
		{"one step early", code, now.Add(-30 * time.Second), 0, true},
		{"two steps late", code, now.Add(61 * time.Second), 0, false},
		{"used already", code, now, step, false},
		{"a newer step used", code, now, step + 1, false},
		{"wrong", "123456", now, 0, false},
		{"short", "05047", now, 0, false},
		{"empty", "", now, 0, false},
	}
	for _, tt := range tests {
		got, ok := checkTOTP(secret, tt.code, tt.at, tt.last)
		if ok != tt.ok || ok && got != step {
			t.Errorf("%s: checkTOTP = %d, %v; want %v at step %d", tt.name, got, ok, tt.ok, step)
		}
	}
	if _, ok := checkTOTP("not base32!", code, now, 0); ok {
		t.Error("a malformed secret matched")
	}
}

func TestNewTOTPSecret(t *testing.T) {
	a, b := NewTOTPSecret(), NewTOTPSecret()
	key, err := decodeTOTPSecret(a)
	if a == b || err != nil || len(key) != 20 || len(a) != 32 {
		t.Errorf("secrets %q %q (%d bytes, %v)", a, b, len(key), err)
	}
}

func TestProvisioningURI(t *testing.T) {
	uri := ProvisioningURI("lan.nguyen", "JBSWY3DPEHPK3PXP")
	if !strings.HasPrefix(uri, "otpauth://totp/Khi%C3%AAn:lan.nguyen?") {
		t.Errorf("URI = %s", uri)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/Khiên:lan.nguyen" || q.Get("secret") != "JBSWY3DPEHPK3PXP" || q.Get("issuer") != "Khiên" ||
		q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("URI %s parses to %s %v", uri, u.Path, q)
	}
}
