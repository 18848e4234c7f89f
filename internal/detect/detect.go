// Package detect finds Vietnamese personal data, credentials and state-secret markings in text.
// Default holds the detectors the public-page family was calibrated on: citizen ID numbers,
// old identity-card numbers, mobile numbers, tax codes and the stamps MẬT, TỐI MẬT and TUYỆT
// MẬT. All adds those data discovery runs over files and databases: landlines, social- and
// health-insurance numbers, passports (and their MRZ), payment cards, bank accounts, e-mail
// addresses, dates of birth, full names next to identifiers; private keys, cloud and API
// tokens, JWTs, passwords in connection strings and configuration; and the lower markings
// "KHÔNG PHỔ BIẾN" and "LƯU HÀNH NỘI BỘ".
//
// A detector validates structure beyond a pattern (province table, century digit, birth year,
// check digit, Luhn, issuer range, network prefix, token alphabet and checksum, key encoding,
// stamp layout) and gives each match a confidence that context words nearby (Vietnamese and
// English) raise; entropy is a signal for secrets, never a verdict. Evidence is masked: a match
// carries a prefix of its value and, once scanned, a keyed hash (HMAC-SHA-256 under a key the
// caller holds) that recognizes the same value across pages and scans without storing it. A
// page holding one number is not a leak, so Scan reports a detector only past a count of
// distinct values or one strong match.
//
// Detectors make a single pass over the bytes looking for digit runs, anchors (a token prefix,
// a key word) or stamp candidates; there are no regular expressions on the hot path.
package detect

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
	"time"
)

// Detector ids. They are stable: findings and evidence refer to them.
const (
	CitizenID  = "vn.citizen_id"     // 12-digit personal identification number (CCCD)
	OldID      = "vn.old_id"         // 9-digit identity card number (CMND)
	Phone      = "vn.phone"          // mobile number
	TaxCode    = "vn.tax_code"       // 10- or 13-digit tax code (MST)
	MarkMat    = "marking.mat"       // state-secret stamp MẬT
	MarkToiMat = "marking.toi_mat"   // state-secret stamp TỐI MẬT
	MarkTuyet  = "marking.tuyet_mat" // state-secret stamp TUYỆT MẬT
)

// Confidence levels used by the built-in detectors. Structure alone is weak evidence;
// a table hit or check digit makes a match plausible; a context word makes it likely.
const (
	confWeak    = 0.5  // valid structure and check digit, no context: a random number passes 1 in 11
	confMedium  = 0.6  // structure plus a table hit (province, network prefix)
	confContext = 0.8  // a weak or medium match with a context word nearby
	confHigh    = 0.95 // structure, table hit and a labelling context word; a stamp
)

// Detector finds one kind of value in text. Find calls emit for every occurrence, in order of
// offset, with Hash empty (Scan fills it). Detectors hold no state between calls and are safe
// for concurrent use.
type Detector interface {
	ID() string
	Find(text []byte, emit func(Match))
}

// Match is one occurrence of a value. It never holds the full value: Masked keeps a prefix
// and Hash a keyed digest of the canonical form (digits only, +84 as 0).
type Match struct {
	Detector   string
	Offset     int // byte offset of the match in the text
	Len        int // length in bytes of the match as written
	Masked     string
	Hash       string
	Confidence float64 // 0–1
	Line       int     // 1-based line of Offset
}

// canonicalizer is implemented by detectors whose values are written in several forms, so
// that "+84 90 123 4567" and "0901234567" hash alike.
type canonicalizer interface {
	canonical(raw []byte) string
}

// Default returns the built-in detectors in a fixed order. now bounds plausible birth years.
func Default(now time.Time) []Detector {
	return []Detector{
		citizenID{year: now.Year()},
		oldID{},
		phone{},
		taxCode{},
		marking{id: MarkMat, level: levelMat},
		marking{id: MarkToiMat, level: levelToiMat},
		marking{id: MarkTuyet, level: levelTuyetMat},
	}
}

// Class is what a detector's values are, which decides the check a finding belongs to.
type Class string

// Classes of values. Later detectors add credentials (keys, tokens) and the lower markings
// ("lưu hành nội bộ", "không phổ biến"), each with its own class so that they do not raise
// findings of the wrong check.
const (
	ClassPersonal    Class = "personal"     // personal data (Law 91/2025/QH15)
	ClassStateSecret Class = "state_secret" // state-secret markings (Law 29/2018/QH14)
)

// ClassOf returns the class of the built-in detector id, or "" for an unknown id.
func ClassOf(id string) Class {
	switch id {
	case CitizenID, OldID, Phone, TaxCode:
		return ClassPersonal
	case MarkMat, MarkToiMat, MarkTuyet:
		return ClassStateSecret
	case Landline, SocialInsurance, Passport, BankCard, BankAccount, Email, BirthDate, FullName:
		return ClassPersonal
	case MarkKhongPhoBien, MarkNoiBo:
		return ClassInternal
	}
	if strings.HasPrefix(id, "secret.") {
		return ClassSecret
	}
	return ""
}

// Options tunes Scan. Zero fields take the defaults.
type Options struct {
	// Key keys the evidence hashes. Callers that compare hashes across pages or scans pass the
	// same key; without one Scan draws a random key, so hashes only compare within one report.
	Key []byte
	// MinDistinct is how many distinct values make a detector reportable (default 3).
	MinDistinct int
	// Strong is the confidence at which one match alone is reportable (default 0.9): a
	// number labelled "Số CCCD", a stamp.
	Strong float64
	// MinConfidence drops weaker matches (default 0.5).
	MinConfidence float64
	// MaxSamples bounds the masked samples kept per detector (default 5).
	MaxSamples int
}

func (o Options) withDefaults() Options {
	if o.MinDistinct <= 0 {
		o.MinDistinct = 3
	}
	if o.Strong <= 0 {
		o.Strong = 0.9
	}
	if o.MinConfidence <= 0 {
		o.MinConfidence = 0.5
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = 5
	}
	return o
}

// Report is what Scan found in one text, detector by detector.
type Report struct {
	Bytes    int       `json:"bytes"`
	Findings []Finding `json:"findings,omitempty"` // detectors with at least one match, in detector order
}

// Finding summarizes one detector's matches in a text.
type Finding struct {
	Detector      string   `json:"detector"`
	Matches       int      `json:"matches"`  // occurrences at or above MinConfidence
	Distinct      int      `json:"distinct"` // distinct values, by hash
	Strong        int      `json:"strong"`   // distinct values matched at or above Strong
	MaxConfidence float64  `json:"max_confidence"`
	Reportable    bool     `json:"reportable"` // Distinct ≥ MinDistinct or Strong ≥ 1
	Samples       []Sample `json:"samples,omitempty"`
}

// Sample is one distinct value, masked.
type Sample struct {
	Masked     string  `json:"masked"`
	Hash       string  `json:"hash"`
	Line       int     `json:"line"`
	Confidence float64 `json:"confidence"`
}

// Finding returns the finding of detector id, if it matched.
func (r Report) Finding(id string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Detector == id {
			return f, true
		}
	}
	return Finding{}, false
}

// Reportable reports whether any of the detectors ids (all when none are given) is reportable.
func (r Report) Reportable(ids ...string) bool {
	for _, f := range r.Findings {
		if !f.Reportable {
			continue
		}
		if len(ids) == 0 {
			return true
		}
		for _, id := range ids {
			if f.Detector == id {
				return true
			}
		}
	}
	return false
}

// Scan runs detectors over text and counts, per detector, the matches and the distinct values
// (by keyed hash), keeping masked samples. The built-in marking detectors share one pass.
func Scan(text []byte, detectors []Detector, opts Options) Report {
	opts = opts.withDefaults()
	h := NewHasher(opts.Key)
	accs := make([]accumulator, len(detectors))
	var marks [levelTuyetMat + 1]*accumulator
	for i, d := range detectors {
		accs[i] = accumulator{f: Finding{Detector: d.ID()}, opts: &opts, h: h, text: text}
		accs[i].canon, _ = d.(canonicalizer)
		if m, ok := d.(marking); ok && marks[m.level] == nil {
			marks[m.level] = &accs[i]
		}
	}
	for i, d := range detectors {
		if m, ok := d.(marking); ok && marks[m.level] == &accs[i] {
			continue // below
		}
		d.Find(text, accs[i].add)
	}
	if marks != [len(marks)]*accumulator{} {
		findStamps(text, func(st stamp, line int) {
			if a := marks[st.level]; a != nil {
				a.add(marking{id: a.f.Detector, level: st.level}.match(st, line))
			}
		})
	}
	rep := Report{Bytes: len(text)}
	for _, a := range accs {
		if a.f.Matches == 0 {
			continue
		}
		a.f.Reportable = a.f.Distinct >= opts.MinDistinct || a.f.Strong > 0
		rep.Findings = append(rep.Findings, a.f)
	}
	return rep
}

// accumulator counts one detector's matches into its Finding.
type accumulator struct {
	f      Finding
	opts   *Options
	h      *Hasher
	text   []byte
	canon  canonicalizer
	strong map[string]bool // hash → counted as strong
}

func (a *accumulator) add(m Match) {
	if m.Confidence < a.opts.MinConfidence {
		return
	}
	a.f.Matches++
	if m.Hash == "" {
		raw := a.text[m.Offset : m.Offset+m.Len]
		if a.canon != nil {
			m.Hash = a.h.Sum(a.canon.canonical(raw))
		} else {
			m.Hash = a.h.Sum(string(raw))
		}
	}
	if a.strong == nil {
		a.strong = map[string]bool{}
	}
	was, seen := a.strong[m.Hash]
	if !seen {
		a.f.Distinct++
		a.strong[m.Hash] = false
		if len(a.f.Samples) < a.opts.MaxSamples {
			a.f.Samples = append(a.f.Samples, Sample{Masked: m.Masked, Hash: m.Hash, Line: m.Line, Confidence: m.Confidence})
		}
	}
	if m.Confidence >= a.opts.Strong && !was {
		a.strong[m.Hash] = true
		a.f.Strong++
	}
	a.f.MaxConfidence = max(a.f.MaxConfidence, m.Confidence)
}

// Hasher computes the keyed evidence hash of canonical values. It is not safe for concurrent
// use; make one per goroutine.
type Hasher struct {
	mac hash.Hash
	buf []byte
}

// NewHasher returns a Hasher under key; an empty key is replaced by a random one.
func NewHasher(key []byte) *Hasher {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
	}
	return &Hasher{mac: hmac.New(sha256.New, key)}
}

// Sum returns the first 128 bits of HMAC-SHA-256(key, value) in hex.
func (h *Hasher) Sum(value string) string {
	h.mac.Reset()
	h.mac.Write([]byte(value))
	h.buf = h.mac.Sum(h.buf[:0])
	return hex.EncodeToString(h.buf[:16])
}
