package vuln

import (
	"slices"
	"strings"
)

// Compare orders two version strings as software vendors write them: dotted numbers with
// letter suffixes ("2.4.49", "1.1.1k", "7.4p1", "8.0.30-0ubuntu0.20.04.2"). Numeric runs
// compare as numbers, letter runs as text, and a version that is a prefix of another is
// older ("2.4" < "2.4.1"). A pre-release marker after a hyphen ("1.0.0-rc1") sorts before the
// release. It returns -1, 0 or +1.
func Compare(a, b string) int {
	a, b = strings.TrimPrefix(strings.ToLower(a), "v"), strings.TrimPrefix(strings.ToLower(b), "v")
	ap, apre := splitPre(a)
	bp, bpre := splitPre(b)
	if c := compareParts(tokens(ap), tokens(bp)); c != 0 {
		return c
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1
	case bpre == "":
		return -1
	}
	return compareParts(tokens(apre), tokens(bpre))
}

// splitPre separates a semver-style pre-release ("-rc1", "-beta") from the version. A hyphen
// followed by a digit is a distribution revision ("-0ubuntu1"), which stays part of the version.
func splitPre(v string) (string, string) {
	i := strings.IndexByte(v, '-')
	if i < 0 || i+1 >= len(v) || (v[i+1] >= '0' && v[i+1] <= '9') {
		return v, ""
	}
	return v[:i], v[i+1:]
}

// tokens splits v into runs of digits and runs of letters; other characters separate.
func tokens(v string) []string {
	var out []string
	start := -1
	kind := 0 // 1 digits, 2 letters
	flush := func(i int) {
		if start >= 0 {
			out = append(out, v[start:i])
			start = -1
		}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		k := 0
		switch {
		case c >= '0' && c <= '9':
			k = 1
		case c >= 'a' && c <= 'z':
			k = 2
		}
		if k != kind || k == 0 {
			flush(i)
		}
		if k != 0 && start < 0 {
			start = i
		}
		kind = k
	}
	flush(len(v))
	return out
}

func compareParts(a, b []string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		switch {
		case i >= len(a):
			return -1
		case i >= len(b):
			return 1
		}
		if c := compareToken(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func compareToken(a, b string) int {
	an, bn := isDigits(a), isDigits(b)
	switch {
	case an && bn:
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	case an: // a number sorts after letters: "1.0.1" > "1.0.a"
		return 1
	case bn:
		return -1
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Affects reports whether version v of a package is inside the affected entry: listed
// explicitly, or within a SEMVER/ECOSYSTEM range (introduced ≤ v < fixed, or ≤ last_affected).
func (af Affected) Affects(v string) bool {
	for _, listed := range af.Versions {
		if Compare(listed, v) == 0 {
			return true
		}
	}
	for _, r := range af.Ranges {
		if r.Type != "SEMVER" && r.Type != "ECOSYSTEM" {
			continue
		}
		if inRange(r.Events, v) {
			return true
		}
	}
	return false
}

// inRange walks OSV events sorted by version, as the schema's evaluation algorithm does.
func inRange(events []Event, v string) bool {
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b Event) int {
		av, bv := a.version(), b.version()
		switch {
		case av == "0" && bv == "0":
			return 0
		case av == "0":
			return -1
		case bv == "0":
			return 1
		}
		return Compare(av, bv)
	})
	affected := false
	for _, e := range events {
		switch {
		case e.Introduced != "":
			if e.Introduced == "0" || Compare(v, e.Introduced) >= 0 {
				affected = true
			}
		case e.Fixed != "":
			if Compare(v, e.Fixed) >= 0 {
				affected = false
			}
		case e.LastAffected != "":
			if Compare(v, e.LastAffected) > 0 {
				affected = false
			}
		case e.Limit != "":
			if Compare(v, e.Limit) >= 0 {
				affected = false
			}
		}
	}
	return affected
}

func (e Event) version() string {
	for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
		if v != "" {
			return v
		}
	}
	return ""
}
