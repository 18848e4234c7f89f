package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/khien-vn/khien/internal/errs"
)

// SecretKeyEnv names the environment variable that holds the key sealing secrets at rest.
const SecretKeyEnv = "KHIEN_SECRET_KEY"

// MinSecretKey is the shortest key accepted, in bytes: `openssl rand -base64 32` gives 44.
const MinSecretKey = 32

// Sealer encrypts the secrets Khiên must store and read back (TOTP secrets) with AES-256-GCM,
// under a key derived by HKDF-SHA-256 from the configured secret key. Each sealed value is
// bound to what it belongs to (a user id), so that a sealed value copied to another row
// does not open.
type Sealer struct {
	aead cipher.AEAD
}

// sealVersion prefixes sealed values, so that the scheme or key can change later.
const sealVersion = "v1:"

// NewSealer derives the sealing key from key, which must be at least MinSecretKey bytes.
func NewSealer(key string) (*Sealer, error) {
	if len(key) < MinSecretKey {
		return nil, errs.E(errs.Invalid, "%s must be at least %d bytes (generate one with: openssl rand -base64 32), got %d",
			SecretKeyEnv, MinSecretKey, len(key))
	}
	k, err := hkdf.Key(sha256.New, []byte(key), []byte("khien"), "khien seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// errNoKey explains what to do when a secret must be sealed or opened without a key.
var errNoKey = errs.E(errs.Invalid, "%s is not set: it encrypts second-factor secrets at rest; set it to a random value of at least %d bytes (openssl rand -base64 32) and keep it with the store's backups",
	SecretKeyEnv, MinSecretKey)

// Seal encrypts plain for owner.
func (s *Sealer) Seal(plain, owner string) (string, error) {
	if s == nil {
		return "", errNoKey
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(owner))
	return sealVersion + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal made for owner.
func (s *Sealer) Open(sealed, owner string) (string, error) {
	if s == nil {
		return "", errNoKey
	}
	rest, ok := strings.CutPrefix(sealed, sealVersion)
	if !ok {
		return "", errors.New("sealed value has an unknown version")
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("sealed value is malformed")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(owner))
	if err != nil {
		return "", fmt.Errorf("sealed value does not open with %s: the key changed or the value was tampered with", SecretKeyEnv)
	}
	return string(plain), nil
}
