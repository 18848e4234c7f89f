package data

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/errs"
)

// Masking methods, per column.
const (
	MethodKeep      = "keep"   // copy as is
	MethodDetect    = "detect" // find values in the text with the detectors and mask each by its kind
	MethodCitizenID = "citizen_id"
	MethodOldID     = "old_id"
	MethodPhone     = "phone" // mobile or landline
	MethodTaxCode   = "tax_code"
	MethodSocial    = "social_insurance"
	MethodPassport  = "passport"
	MethodCard      = "bank_card"
	MethodAccount   = "bank_account"
	MethodEmail     = "email"
	MethodName      = "name"
	MethodDate      = "date" // also birth_date
	MethodDigits    = "digits"
	MethodHash      = "hash"
	MethodRedact    = "redact"
	MethodNull      = "null"
)

var methods = []string{MethodKeep, MethodDetect, MethodCitizenID, MethodOldID, MethodPhone, MethodTaxCode, MethodSocial,
	MethodPassport, MethodCard, MethodAccount, MethodEmail, MethodName, MethodDate, "birth_date", MethodDigits, MethodHash,
	MethodRedact, MethodNull}

// MaskConfig says how each column is masked. Keys of Columns are a column name (any table) or
// table.column; Default applies to columns not listed (detect unless set).
//
//	key_env: KHIEN_MASK_KEY     # where the key is (default); or key_file: /run/secrets/mask-key
//	default: detect
//	columns:
//	  so_cccd: citizen_id
//	  cong_dan.ho_ten: name
//	  id: keep
type MaskConfig struct {
	KeyEnv  string            `yaml:"key_env"`
	KeyFile string            `yaml:"key_file"`
	Default string            `yaml:"default"`
	Columns map[string]string `yaml:"columns"`
}

// LoadMaskConfig reads a masking configuration and its key (from the file it names, or the
// environment variable, KHIEN_MASK_KEY by default).
func LoadMaskConfig(path string, getenv func(string) string) (*Masker, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read the masking configuration %s", path)
	}
	var cfg MaskConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "%s: %v", path, err)
	}
	var key []byte
	switch {
	case cfg.KeyFile != "":
		kf := cfg.KeyFile
		if !filepath.IsAbs(kf) {
			kf = filepath.Join(filepath.Dir(path), kf)
		}
		if key, err = os.ReadFile(kf); err != nil {
			return nil, errs.Wrap(errs.Invalid, err, "%s: cannot read key_file %s", path, cfg.KeyFile)
		}
		key = bytes.TrimSpace(key)
	default:
		env := cfg.KeyEnv
		if env == "" {
			env = "KHIEN_MASK_KEY"
		}
		key = []byte(getenv(env))
	}
	if len(key) < 16 {
		return nil, errs.E(errs.Invalid, "%s: the masking key must be at least 16 bytes: set %s or key_file (the same key gives the same pseudonyms, so keep it secret and keep it)",
			path, cmpOr(cfg.KeyEnv, "KHIEN_MASK_KEY"))
	}
	return NewMasker(cfg, key)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Masker masks values by column under one key. It is not safe for concurrent use.
type Masker struct {
	cfg       MaskConfig
	p         pseudonymizer
	detectors []detect.Detector
	memo      map[string]string
}

// NewMasker checks cfg and returns a Masker under key.
func NewMasker(cfg MaskConfig, key []byte) (*Masker, error) {
	if cfg.Default == "" {
		cfg.Default = MethodDetect
	}
	var bad []string
	if !slices.Contains(methods, cfg.Default) {
		bad = append(bad, fmt.Sprintf("default: %q", cfg.Default))
	}
	for col, m := range cfg.Columns {
		if !slices.Contains(methods, m) {
			bad = append(bad, fmt.Sprintf("%s: %q", col, m))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, errs.E(errs.Invalid, "unknown masking method for %s; use one of %s", strings.Join(bad, ", "), strings.Join(methods, ", "))
	}
	ds := detect.Personal(time.Now())
	ds = append(ds, detect.Secrets()...)
	ds = append(ds, detect.Markings()...)
	return &Masker{cfg: cfg, p: pseudonymizer{key: key}, detectors: ds, memo: map[string]string{}}, nil
}

// Method returns the method for column of table.
func (m *Masker) Method(table, column string) string {
	if v, ok := m.cfg.Columns[table+"."+column]; ok {
		return v
	}
	if v, ok := m.cfg.Columns[column]; ok {
		return v
	}
	return m.cfg.Default
}

// Value masks one value by method; label is the column name, context for MethodDetect. It
// returns the masked value and the detectors that fired (for MethodDetect).
func (m *Masker) Value(method, label, v string) (string, []string) {
	if v == "" {
		return v, nil
	}
	switch method {
	case MethodKeep:
		return v, nil
	case MethodDetect:
		return m.detect(label, v)
	}
	k := method + "\x00" + v
	if out, ok := m.memo[k]; ok {
		return out, nil
	}
	var out string
	switch method {
	case MethodCitizenID:
		out = m.p.citizenID(v)
	case MethodOldID:
		out = m.p.anyDigits("old_id", v)
	case MethodPhone:
		out = m.p.phone(v)
	case MethodTaxCode:
		out = m.p.taxCode(v)
	case MethodSocial:
		out = m.p.socialInsurance(v)
	case MethodPassport:
		out = m.p.passport(v)
	case MethodCard:
		out = m.p.card(v)
	case MethodAccount:
		out = m.p.anyDigits("account", v)
	case MethodEmail:
		out = m.p.email(v)
	case MethodName:
		out = m.p.name(v)
	case MethodDate, "birth_date":
		out = m.p.date(v)
	case MethodDigits:
		out = m.p.anyDigits("digits", v)
	case MethodHash:
		out = m.p.token("hash", v)
	case MethodRedact:
		out = strings.Repeat("*", min(8, len([]rune(v))))
	case MethodNull:
		out = ""
	default:
		out = v
	}
	if len(m.memo) < 1<<20 {
		m.memo[k] = out
	}
	return out, nil
}

// methodFor maps a detector to the method that masks its values.
func methodFor(id string) string {
	switch id {
	case detect.CitizenID:
		return MethodCitizenID
	case detect.OldID:
		return MethodOldID
	case detect.Phone, detect.Landline:
		return MethodPhone
	case detect.TaxCode:
		return MethodTaxCode
	case detect.SocialInsurance:
		return MethodSocial
	case detect.Passport:
		return MethodPassport
	case detect.BankCard:
		return MethodCard
	case detect.BankAccount:
		return MethodAccount
	case detect.Email:
		return MethodEmail
	case detect.BirthDate:
		return MethodDate
	case detect.FullName:
		return MethodName
	}
	return MethodRedact
}

// detect masks every value the detectors find in free text, each by its kind; credentials and
// markings become stars.
func (m *Masker) detect(label, v string) (string, []string) {
	prefix := columnLabel(label) + ":\t"
	text := []byte(prefix + v)
	type span struct {
		s, e int
		id   string
	}
	var spans []span
	for _, d := range m.detectors {
		d.Find(text, func(x detect.Match) {
			if x.Confidence >= 0.5 && x.Offset >= len(prefix) {
				spans = append(spans, span{x.Offset, x.Offset + x.Len, d.ID()})
			}
		})
	}
	if len(spans) == 0 {
		return v, nil
	}
	sort.SliceStable(spans, func(i, j int) bool {
		if spans[i].s != spans[j].s {
			return spans[i].s < spans[j].s
		}
		return spans[i].e-spans[i].s > spans[j].e-spans[j].s
	})
	var out strings.Builder
	var ids []string
	last := len(prefix)
	for _, sp := range spans {
		if sp.s < last {
			continue
		}
		out.Write(text[last:sp.s])
		orig := string(text[sp.s:sp.e])
		masked, _ := m.Value(methodFor(sp.id), label, orig)
		if masked == orig && methodFor(sp.id) != MethodRedact {
			masked, _ = m.Value(MethodRedact, label, orig)
		}
		out.WriteString(masked)
		last = sp.e
		ids = append(ids, sp.id)
	}
	out.Write(text[last:])
	return out.String(), ids
}

// ColumnMask reports what masking did to one column.
type ColumnMask struct {
	Name     string         `json:"name"`
	Method   string         `json:"method"`
	Values   int            `json:"values"`  // non-empty values read
	Changed  int            `json:"changed"` // values written differently
	Detected map[string]int `json:"detected,omitempty"`
}

// TableMask reports what masking did to one table or file.
type TableMask struct {
	Name    string       `json:"name"`
	Rows    int          `json:"rows"`
	Columns []ColumnMask `json:"columns"`
}

// MaskReport is what khien data mask prints.
type MaskReport struct {
	Input   string      `json:"input"`
	Output  string      `json:"output"`
	Tables  []TableMask `json:"tables"`
	Unused  []string    `json:"unused_config,omitempty"` // configured columns found nowhere
	Elapsed string      `json:"elapsed"`
}

// tableMasker masks the rows of one table and counts.
type tableMasker struct {
	m      *Masker
	report TableMask
	names  []string
}

func (m *Masker) table(name string, columns []string) *tableMasker {
	t := &tableMasker{m: m, names: columns, report: TableMask{Name: name}}
	for _, c := range columns {
		t.report.Columns = append(t.report.Columns, ColumnMask{Name: c, Method: m.Method(name, c)})
	}
	return t
}

// cell masks the value of column i; null values stay null.
func (t *tableMasker) cell(i int, v string) string {
	if i >= len(t.report.Columns) {
		return v
	}
	c := &t.report.Columns[i]
	if v == "" {
		return v
	}
	c.Values++
	out, ids := t.m.Value(c.Method, c.Name, v)
	if out != v {
		c.Changed++
	}
	for _, id := range ids {
		if c.Detected == nil {
			c.Detected = map[string]int{}
		}
		c.Detected[id]++
	}
	return out
}

// unused lists configured columns that no table had.
func (m *Masker) unused(tables []TableMask) []string {
	seen := map[string]bool{}
	for _, t := range tables {
		for _, c := range t.Columns {
			seen[c.Name], seen[t.Name+"."+c.Name] = true, true
		}
	}
	var out []string
	for k := range m.cfg.Columns {
		if !seen[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// writeAtomic writes out through a temporary file in the same directory, renamed into place
// only when fill succeeds: a failed run leaves no partial output.
func writeAtomic(out string, fill func(f *os.File) error) error {
	dir := filepath.Dir(out)
	f, err := os.CreateTemp(dir, ".khien-mask-*")
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "cannot write to %s", dir)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	ok = true
	return nil
}
