package auth

import (
	"regexp"
	"strings"
	"testing"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordRoundTrip(t *testing.T) {
	for _, p := range []Params{fast, {Memory: 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}} {
		phc := HashPassword("Mật khẩu tiếng Việt 2026", p)
		re := regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
		if !re.MatchString(phc) {
			t.Fatalf("hash %q is not a PHC string", phc)
		}
		ok, got, err := VerifyPassword("Mật khẩu tiếng Việt 2026", phc)
		if !ok || err != nil || got != p {
			t.Errorf("Verify(right) = %v, %+v, %v; want true, %+v", ok, got, err, p)
		}
		for _, wrong := range []string{"mật khẩu tiếng việt 2026", "Mật khẩu tiếng Việt 2026 ", ""} {
			if ok, _, err := VerifyPassword(wrong, phc); ok || err != nil {
				t.Errorf("Verify(%q) = %v, %v", wrong, ok, err)
			}
		}
	}
	if a, b := HashPassword("x", fast), HashPassword("x", fast); a == b {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

// TestPasswordKnownHash checks hashes made by the reference implementation, libargon2
// (Debian's libargon2-1, called with argon2id_hash_encoded); the first is also a vector of
// its test.c.
func TestPasswordKnownHash(t *testing.T) {
	tests := []struct {
		pw, phc string
		want    Params
	}{
		{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
			Params{Memory: 65536, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}},
		{"Mật khẩu tiếng Việt", "$argon2id$v=19$m=4096,t=3,p=2$a2hpZW4tc2FsdC0xNmJ5dA$3GgtAwYiqctKJDLFpNkXXPerT62/1r8BLCqMuSkX0oM",
			Params{Memory: 4096, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}},
	}
	for _, tt := range tests {
		ok, p, err := VerifyPassword(tt.pw, tt.phc)
		if !ok || err != nil || p != tt.want {
			t.Errorf("VerifyPassword(%q) = %v, %+v, %v; want true, %+v", tt.pw, ok, p, err, tt.want)
		}
	}
}

func TestParsePHCRefuses(t *testing.T) {
	good := HashPassword("x", fast)
	parts := strings.Split(good, "$")
	for name, phc := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"version 16":     strings.Replace(good, "v=19", "v=16", 1),
		"no memory":      strings.Replace(good, "m=64,", "", 1),
		"unknown param":  strings.Replace(good, "p=1", "p=1,x=2", 1),
		"zero time":      strings.Replace(good, "t=1", "t=0", 1),
		"huge memory":    strings.Replace(good, "m=64", "m=99999999", 1),
		"too many lanes": strings.Replace(good, "p=1", "p=300", 1),
		"bad salt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short hash":     strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"extra part":     good + "$x",
	} {
		if ok, _, err := VerifyPassword("x", phc); ok || err == nil {
			t.Errorf("%s: VerifyPassword(%q) = %v, %v; want an error", name, phc, ok, err)
		}
	}
}

func TestParamsWeaker(t *testing.T) {
	if !fast.weaker(DefaultParams) || DefaultParams.weaker(DefaultParams) || DefaultParams.weaker(fast) {
		t.Error("weaker does not compare costs")
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"":                        false,
		"ngắn quá":                false,
		"đủ mười hai!":            true, // twelve characters, more bytes
		"correct horse battery":   true,
		strings.Repeat("x", 1025): false,
		"mười một ký":             false,
	} {
		if err := checkPassword(pw); (err == nil) != ok {
			t.Errorf("checkPassword(%q) = %v, want ok %v", pw, err, ok)
		}
	}
}

func FuzzVerifyPassword(f *testing.F) {
	f.Add("x", HashPassword("x", fast))
	f.Add("", "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("x", "$argon2id$v=19$m=,t=,p=$$")
	f.Fuzz(func(t *testing.T, pw, phc string) {
		p, _, _, err := parsePHC(phc)
		if err != nil {
			return
		}
		if p.Memory > 1<<16 || p.Time > 4 { // valid but too slow to fuzz
			return
		}
		VerifyPassword(pw, phc)
	})
}
