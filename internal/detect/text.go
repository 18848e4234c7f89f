package detect

import (
	"math"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// nfc returns raw in Unicode normalization form C.
func nfc(raw []byte) string { return norm.NFC.String(string(raw)) }

func utf8RuneStart(c byte) bool { return utf8.RuneStart(c) }

// entropy returns the Shannon entropy of s in bits per byte. It is a signal for secrets, not a
// verdict: random keys score above 4, words and placeholders below 3.5.
func entropy(s []byte) float64 {
	if len(s) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range s {
		counts[c]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// charClasses counts the classes (lower, upper, digit, other) present in s.
func charClasses(s []byte) int {
	var lo, up, di, ot int
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			lo = 1
		case c >= 'A' && c <= 'Z':
			up = 1
		case isDigit(c):
			di = 1
		default:
			ot = 1
		}
	}
	return lo + up + di + ot
}
