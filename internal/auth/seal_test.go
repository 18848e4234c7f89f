package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

const key = "a-test-key-of-at-least-thirty-two-bytes"

func TestSealRoundTrip(t *testing.T) {
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("JBSWY3DPEHPK3PXP", "u-1")
	if err != nil || !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if again, _ := s.Seal("JBSWY3DPEHPK3PXP", "u-1"); again == sealed {
		t.Error("sealing twice gives the same value: the nonce is not random")
	}
	if got, err := s.Open(sealed, "u-1"); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Errorf("Open = %q, %v", got, err)
	}
	other, _ := NewSealer(key + "x")
	flipped := sealed[:len(sealed)-2] + map[bool]string{true: "A", false: "B"}[sealed[len(sealed)-2] != 'A'] + sealed[len(sealed)-1:]
	for name, open := range map[string]func() (string, error){
		"another owner": func() (string, error) { return s.Open(sealed, "u-2") },
		"another key":   func() (string, error) { return other.Open(sealed, "u-1") },
		"tampered":      func() (string, error) { return s.Open(flipped, "u-1") },
		"no version":    func() (string, error) { return s.Open(sealed[3:], "u-1") },
		"garbage":       func() (string, error) { return s.Open("v1:!!", "u-1") },
	} {
		if got, err := open(); err == nil {
			t.Errorf("%s: Open = %q, want an error", name, got)
		}
	}
}

func TestSealerNeedsKey(t *testing.T) {
	if _, err := NewSealer("short"); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "KHIEN_SECRET_KEY") {
		t.Errorf("NewSealer(short) = %v", err)
	}
	var none *Sealer
	if _, err := none.Seal("x", "u"); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "KHIEN_SECRET_KEY is not set") {
		t.Errorf("Seal without a key = %v", err)
	}
}

func TestLockFor(t *testing.T) {
	tests := []struct {
		failures, limit int
		want            time.Duration
	}{
		{1, 5, 0}, {4, 5, 0}, {5, 5, 5 * time.Minute}, {6, 5, 10 * time.Minute}, {7, 5, 20 * time.Minute},
		{8, 5, 40 * time.Minute}, {9, 5, time.Hour}, {500, 5, time.Hour}, {19, 20, 0}, {20, 20, 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := lockFor(tt.failures, tt.limit); got != tt.want {
			t.Errorf("lockFor(%d, %d) = %v, want %v", tt.failures, tt.limit, got, tt.want)
		}
	}
}

func TestLockedMessage(t *testing.T) {
	until := time.Date(2026, 3, 1, 3, 15, 0, 0, time.UTC) // 10:15 in Vietnam
	tests := []struct {
		e    LockedError
		want string
	}{
		{LockedError{Until: until}, "Tài khoản tạm khóa đến 10:15 do đăng nhập sai nhiều lần / Account locked until 10:15 after repeated failed sign-ins"},
		{LockedError{Until: until, Address: true}, "Quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau 10:15 / Too many failed sign-ins from this address; try again after 10:15"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("message = %q\nwant      %q", got, tt.want)
		}
	}
}

// TestRoles checks the role table's invariants: every role's actions are known and the
// platform administrator's include them; only administrators manage accounts.
func TestRoles(t *testing.T) {
	for _, r := range Roles {
		as := ActionsOf(r)
		if len(as) == 0 {
			t.Errorf("role %s has no actions", r)
		}
		for _, a := range as {
			if !UserPrincipal(User{Role: PlatformAdmin}).Has(a) {
				t.Errorf("role %s allows %s, which a platform administrator lacks", r, a)
			}
		}
		manages := UserPrincipal(User{Role: r}).Has(UsersManage)
		if manages != (r == PlatformAdmin || r == OrgAdmin) || manages != r.NeedsMFA() {
			t.Errorf("role %s: manages accounts %v, needs a second factor %v", r, manages, r.NeedsMFA())
		}
	}
	for _, r := range []Role{Auditor, Leader} {
		for _, a := range ActionsOf(r) {
			if !strings.HasSuffix(string(a), ":read") {
				t.Errorf("read-only role %s allows %s", r, a)
			}
		}
	}
	if ActionsOf("king") != nil {
		t.Error("an unknown role has actions")
	}
}

func TestParseToken(t *testing.T) {
	for raw, want := range map[string]string{
		"khien_abc_def": "abc",
		"khien_abc":     "",
		"khien__def":    "",
		"abc_def":       "",
		"khien_abc_":    "",
		"khien_" + strings.Repeat("a", 300) + "_x": "",
	} {
		if got, ok := parseToken(raw); got != want || ok != (want != "") {
			t.Errorf("parseToken(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}
