// Package vuln holds vulnerability feeds imported offline — OSV records with affected version
// ranges and the CISA Known Exploited Vulnerabilities catalog — and matches software
// fingerprints (product and version read from banners and headers) against them.
//
// A version match is only an inference: Linux distributions backport fixes without changing
// the version a banner shows. Matches therefore carry a confidence label, "version-inferred"
// or "confirmed" (the flaw itself was observed), and only confirmed ones may block the
// go-live gate on their own.
package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

// Advisory is one vulnerability record, after OSV's schema (ossf.github.io/osv-schema).
type Advisory struct {
	ID        string     `json:"id"`
	Aliases   []string   `json:"aliases,omitempty"`
	Summary   string     `json:"summary,omitempty"`
	Modified  time.Time  `json:"modified"`
	Published time.Time  `json:"published,omitempty"`
	Affected  []Affected `json:"affected"`
	Severity  []struct {
		Type  string `json:"type"`
		Score string `json:"score"`
	} `json:"severity,omitempty"`
}

// Affected names a package and the versions of it that are vulnerable.
type Affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		Purl      string `json:"purl,omitempty"`
	} `json:"package"`
	Ranges   []Range  `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

// Range is an OSV range: ordered events "introduced", "fixed", "last_affected".
type Range struct {
	Type   string  `json:"type"` // SEMVER or ECOSYSTEM; GIT ranges cannot match a banner
	Events []Event `json:"events"`
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// CVEs returns the CVE ids of a: its id if it is one, and its CVE aliases.
func (a Advisory) CVEs() []string {
	var out []string
	for _, id := range append([]string{a.ID}, a.Aliases...) {
		if strings.HasPrefix(id, "CVE-") && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// ParseOSV reads OSV JSON: one record, an array of records, or {"vulns":[…]} as the OSV API
// answers. Records without an id or affected packages are errors naming the record.
func ParseOSV(r io.Reader) ([]Advisory, error) {
	b, err := io.ReadAll(io.LimitReader(r, 512<<20))
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	var advs []Advisory
	switch {
	case len(b) == 0:
		return nil, errs.E(errs.Invalid, "the OSV file is empty")
	case b[0] == '[':
		err = json.Unmarshal(b, &advs)
	default:
		var probe struct {
			Vulns []Advisory `json:"vulns"`
			ID    string     `json:"id"`
		}
		if err = json.Unmarshal(b, &probe); err == nil {
			if probe.ID != "" {
				var a Advisory
				err = json.Unmarshal(b, &a)
				advs = []Advisory{a}
			} else {
				advs = probe.Vulns
			}
		}
	}
	if err != nil {
		return nil, jsonError("OSV", b, err)
	}
	for i, a := range advs {
		switch {
		case a.ID == "":
			return nil, errs.E(errs.Invalid, "OSV record %d has no id", i+1)
		case len(a.Affected) == 0:
			return nil, errs.E(errs.Invalid, "OSV record %s lists no affected package", a.ID)
		}
		for _, af := range a.Affected {
			if af.Package.Name == "" {
				return nil, errs.E(errs.Invalid, "OSV record %s has an affected entry without a package name", a.ID)
			}
		}
	}
	return advs, nil
}

// KEV is one entry of CISA's Known Exploited Vulnerabilities catalog.
type KEV struct {
	CVE                string `json:"cveID"`
	Vendor             string `json:"vendorProject"`
	Product            string `json:"product"`
	Name               string `json:"vulnerabilityName"`
	DateAdded          string `json:"dateAdded"`
	DueDate            string `json:"dueDate"`
	RequiredAction     string `json:"requiredAction"`
	KnownRansomwareUse string `json:"knownRansomwareCampaignUse"`
}

// ParseKEV reads the KEV catalog JSON ({"catalogVersion", "vulnerabilities":[…]}).
func ParseKEV(r io.Reader) (version string, entries []KEV, err error) {
	b, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return "", nil, err
	}
	var doc struct {
		Title           string `json:"title"`
		CatalogVersion  string `json:"catalogVersion"`
		Vulnerabilities []KEV  `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", nil, jsonError("KEV", b, err)
	}
	if doc.Vulnerabilities == nil {
		return "", nil, errs.E(errs.Invalid, "not a KEV catalog: no \"vulnerabilities\" array")
	}
	for i, k := range doc.Vulnerabilities {
		if !strings.HasPrefix(k.CVE, "CVE-") {
			return "", nil, errs.E(errs.Invalid, "KEV entry %d has cveID %q, not a CVE id", i+1, k.CVE)
		}
	}
	return doc.CatalogVersion, doc.Vulnerabilities, nil
}

// Sniff tells a KEV catalog from OSV records by their top-level keys.
func Sniff(b []byte) string {
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) == nil {
		if _, ok := probe["vulnerabilities"]; ok {
			return "kev"
		}
	}
	return "osv"
}

// jsonError reports a JSON syntax error with its line and column.
func jsonError(what string, b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return errs.Wrap(errs.Invalid, err, "%s file is not valid JSON", what)
	}
	line := 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(b[:min(int(off), len(b))], '\n') - 1
	return errs.E(errs.Invalid, "%s file line %d column %d: %v", what, line, col, err)
}
