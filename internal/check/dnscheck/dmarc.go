package dnscheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DMARCRecord is a parsed DMARC record (RFC 7489 section 6.3), as kept in evidence.
type DMARCRecord struct {
	// Policy is the p tag, lower case ("none", "quarantine", "reject"); when p is missing or
	// invalid but a reporting address is given, it is "none" and PolicyImplied is set
	// (RFC 7489 section 6.6.3).
	Policy        string   `json:"p"`
	PolicyImplied bool     `json:"p_implied,omitempty"`
	Subdomain     string   `json:"sp,omitempty"`
	Percent       int      `json:"pct"`
	RUA           []string `json:"rua,omitempty"`
	RUF           []string `json:"ruf,omitempty"`
	ADKIM         string   `json:"adkim,omitempty"`
	ASPF          string   `json:"aspf,omitempty"`
	// Warnings are tags that were ignored: unknown values, repeats, malformed pct.
	Warnings []string `json:"warnings,omitempty"`
}

// isDMARC reports whether a TXT string is a DMARC record: it starts with "v=DMARC1" and
// then ";" or the end, with optional spaces around "=" (RFC 7489 section 6.6.3).
func isDMARC(txt string) bool {
	tag, rest, ok := strings.Cut(txt, "=")
	if !ok || strings.TrimRight(tag, " \t") != "v" {
		return false
	}
	rest = strings.TrimLeft(rest, " \t")
	if !strings.HasPrefix(rest, "DMARC1") {
		return false
	}
	rest = strings.TrimLeft(rest[len("DMARC1"):], " \t")
	return rest == "" || rest[0] == ';'
}

// parseDMARC parses a DMARC record. An error means the record is not a usable policy, so
// that DMARC is not applied to the domain at all.
func parseDMARC(txt string) (DMARCRecord, error) {
	r := DMARCRecord{Percent: 100}
	if !isDMARC(txt) {
		return r, errors.New(`the record does not start with "v=DMARC1"`)
	}
	seen := map[string]bool{}
	var rawP string
	for i, part := range strings.Split(txt, ";") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		tag, value, ok := strings.Cut(part, "=")
		if !ok {
			return DMARCRecord{}, fmt.Errorf("%q is not tag=value", part)
		}
		tag = strings.ToLower(strings.TrimRight(tag, " \t"))
		value = strings.TrimLeft(value, " \t")
		if !validTag(tag) {
			return DMARCRecord{}, fmt.Errorf("%q is not a tag name", tag)
		}
		if i == 0 {
			continue // v=DMARC1, checked above
		}
		if tag == "v" {
			return DMARCRecord{}, errors.New(`"v" is repeated`)
		}
		if seen[tag] {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s is repeated; the first value is used", tag))
			continue
		}
		seen[tag] = true
		switch tag {
		case "p":
			rawP = value
		case "sp":
			if v := strings.ToLower(value); isPolicy(v) {
				r.Subdomain = v
			} else {
				r.Warnings = append(r.Warnings, fmt.Sprintf("sp=%s is not none, quarantine or reject", value))
			}
		case "pct":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > 100 || !allDigits(value) {
				r.Warnings = append(r.Warnings, fmt.Sprintf("pct=%s is not a number from 0 to 100; 100 is used", value))
			} else {
				r.Percent = n
			}
		case "rua", "ruf":
			var uris []string
			for _, u := range strings.Split(value, ",") {
				if u = strings.Trim(u, " \t"); u != "" {
					uris = append(uris, u)
				}
			}
			if tag == "rua" {
				r.RUA = uris
			} else {
				r.RUF = uris
			}
		case "adkim", "aspf":
			v := strings.ToLower(value)
			if v != "r" && v != "s" {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s=%s is not r or s", tag, value))
				continue
			}
			if tag == "adkim" {
				r.ADKIM = v
			} else {
				r.ASPF = v
			}
		case "fo", "rf", "ri":
		default:
			r.Warnings = append(r.Warnings, fmt.Sprintf("unknown tag %s", tag))
		}
	}
	if p := strings.ToLower(rawP); isPolicy(p) {
		r.Policy = p
		return r, nil
	}
	if !hasReportURI(r.RUA) {
		if rawP == "" {
			return DMARCRecord{}, errors.New(`the record has no "p" tag`)
		}
		return DMARCRecord{}, fmt.Errorf("p=%s is not none, quarantine or reject", rawP)
	}
	r.Policy, r.PolicyImplied = "none", true
	return r, nil
}

func isPolicy(v string) bool { return v == "none" || v == "quarantine" || v == "reject" }

// validTag reports whether s is a tag name: ALPHA *( ALPHA / DIGIT / "_" ).
func validTag(s string) bool {
	return s != "" && nameLen(s) == len(s) && !strings.ContainsAny(s, "-.")
}

// hasReportURI reports whether some URI looks valid enough to receive reports.
func hasReportURI(uris []string) bool {
	for _, u := range uris {
		scheme, rest, ok := strings.Cut(u, ":")
		if ok && scheme != "" && rest != "" {
			return true
		}
	}
	return false
}
