package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/khien-vn/khien/internal/errs"
)

// Params are argon2id's cost parameters. They are stored with each hash, so they can be
// raised later: a password hashed with weaker ones is hashed again at its next sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are RFC 9106's second recommended option: 64 MiB, three passes, four lanes.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}

// Password length limits. The upper one bounds the work an attacker can ask of argon2.
const (
	MinPassword = 12
	MaxPassword = 1024
)

// checkPassword refuses a password too short or too long, in characters.
func checkPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPassword:
		return errs.Field("password", "must be at least %d characters, got %d; a phrase of several words is easier to remember", MinPassword, n)
	case len(pw) > MaxPassword:
		return errs.Field("password", "must be at most %d bytes", MaxPassword)
	}
	return nil
}

// HashPassword returns the PHC string of pw with a new random salt:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>, salt and hash in unpadded standard base64.
func HashPassword(pw string, p Params) string {
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

var b64 = base64.RawStdEncoding

// VerifyPassword reports whether pw matches the PHC string phc, and the parameters phc was
// made with. A malformed phc is an error, never a match.
func VerifyPassword(pw, phc string) (bool, Params, error) {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false, Params{}, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}

// Limits on stored parameters, so that a corrupted row cannot make a sign-in allocate
// gigabytes or loop for minutes.
const (
	maxMemory = 4 << 20 // KiB: 4 GiB
	maxTime   = 100
)

func parsePHC(phc string) (p Params, salt, key []byte, err error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("password hash is not a valid argon2id PHC string: %s", why)
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version " + parts[2])
	}
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter " + kv)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return bad("parameter " + kv)
			}
			p.Threads = uint8(n)
		default:
			return bad("parameter " + kv)
		}
	}
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return bad("parameters out of range")
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return bad("salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return bad("hash")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// weaker reports whether a hash made with p should be redone with want.
func (p Params) weaker(want Params) bool {
	return p.Memory < want.Memory || p.Time < want.Time || p.KeyLen < want.KeyLen || p.SaltLen < want.SaltLen
}
