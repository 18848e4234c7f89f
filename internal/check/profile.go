package check

import (
	"fmt"
	"strings"
)

// Profile names a set of grading choices (thresholds and judgements) of the tls and http
// families. Observation never depends on it: the same handshakes and pages are graded by
// Khiên's own choices or by a peer's, so that when an agency disputes a verdict it can re-run
// the scan under the peer's profile and see whether the two tools differ in policy or in what
// they observed. Each family turns a profile into its own Policy.
type Profile string

// The profiles. Khiên's is the default; the others reproduce a peer's grading choices.
const (
	ProfileKhien       Profile = "khien"       // Khiên's catalog
	ProfileTestssl     Profile = "testssl"     // testssl.sh 3.0 (OpenSSL's chain verification)
	ProfileObservatory Profile = "observatory" // MDN HTTP Observatory, algorithm version 6
)

// Profiles lists every profile, the default first.
func Profiles() []Profile { return []Profile{ProfileKhien, ProfileTestssl, ProfileObservatory} }

// ParseProfile returns the profile named s; the empty string is the default. An unknown name
// is an error that names the valid ones.
func ParseProfile(s string) (Profile, error) {
	if s == "" {
		return ProfileKhien, nil
	}
	names := make([]string, 0, 3)
	for _, p := range Profiles() {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
		names = append(names, string(p))
	}
	return "", fmt.Errorf("unknown profile %q: use one of %s", s, strings.Join(names, ", "))
}
