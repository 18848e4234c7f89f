package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TOTP after RFC 6238 with the parameters every authenticator app supports: HMAC-SHA-1, six
// digits, a 30-second step.
const (
	totpDigits = 6
	totpStep   = 30 // seconds
	// totpSkew is how many steps before and after the current one are accepted, for clocks
	// that drift and codes typed slowly.
	totpSkew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a random 160-bit secret in base32, as authenticator apps take it.
func NewTOTPSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return b32.EncodeToString(b)
}

// hotp is RFC 4226's HOTP value of counter with key, in digits decimal digits.
func hotp(key []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	s := strconv.FormatUint(uint64(code%mod), 10)
	return strings.Repeat("0", digits-len(s)) + s
}

// totpCounter is the time step t falls in.
func totpCounter(t time.Time) uint64 { return uint64(t.Unix()) / totpStep }

// TOTP returns the code of secret (base32) at t.
func TOTP(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	return hotp(key, totpCounter(t), totpDigits), nil
}

func decodeTOTPSecret(secret string) ([]byte, error) {
	return b32.DecodeString(strings.ToUpper(strings.TrimRight(strings.ReplaceAll(secret, " ", ""), "=")))
}

// checkTOTP looks for code among the steps around now that come after last, the step of the
// code accepted before, so that a code works once. It returns the step it matched.
func checkTOTP(secret, code string, now time.Time, last int64) (int64, bool) {
	key, err := decodeTOTPSecret(secret)
	code = strings.ReplaceAll(code, " ", "")
	if err != nil || len(code) != totpDigits {
		return 0, false
	}
	c := int64(totpCounter(now))
	for step := c - totpSkew; step <= c+totpSkew; step++ {
		if step <= last || step < 0 {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(hotp(key, uint64(step), totpDigits)), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// Issuer names Khiên in authenticator apps.
const Issuer = "Khiên"

// ProvisioningURI is the otpauth:// URI an authenticator app scans (as a QR code) or imports
// to set up login's second factor: otpauth://totp/Khiên:login?secret=…&issuer=Khiên.
func ProvisioningURI(login, secret string) string {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", Issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", strconv.Itoa(totpDigits))
	q.Set("period", strconv.Itoa(totpStep))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + Issuer + ":" + login, RawQuery: q.Encode()}
	return u.String()
}
