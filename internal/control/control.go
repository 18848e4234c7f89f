// Package control is the catalog of management and technical requirements that a person
// attests to with evidence (a policy approved, a restore tested), by security level, and the
// rules of those attestations: who declared a control met, which evidence files back it (kept
// content-addressed by their SHA-256), who reviewed it, and until when it stands.
//
// The catalog is data (controls.yaml, embedded): Decree 331/2026/NĐ-CP and TCVN 14423:2026 are
// its basis, Decree 85/2016 and TCVN 11930:2017 its legacy. The index reads which controls a
// system or an organization must meet and whether a valid attestation says so; the go-live gate
// reads the mandatory ones. The package is pure: no I/O beyond parsing its embedded file.
//
// Which controls apply:
//   - to a system: the system controls in force at the time whose levels include the system's
//     security level and, for controls limited to data classes, that hold one of them;
//   - to an organization: the organization controls in force whose levels include the
//     organization's level, which is the highest security level among its own systems that
//     count (OrgLevel), or level 1 when it has none: every agency needs a policy, a responsible
//     unit and an incident plan, whether or not it runs a system of its own.
package control

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

//go:embed controls.yaml
var catalogYAML []byte

// Scope says whom a control is about.
type Scope string

// Scopes. An organization control counts in the organization's own score, a system control in
// the system's.
const (
	ScopeOrganization Scope = "organization"
	ScopeSystem       Scope = "system"
)

// Group is a management or technical requirement group (Đ30.3–Đ30.4, TCVN 11930:2017's groups).
type Group struct {
	ID string `json:"id" yaml:"id"`
	VI string `json:"vi" yaml:"vi"`
	EN string `json:"en" yaml:"en"`
}

// StandardGroup is a requirement group of TCVN 14423:2026 with its section at each level:
// Sections[0] is level 1. The numbering shifts between levels, and an empty section means the
// level has no such group.
type StandardGroup struct {
	Key      string    `json:"key" yaml:"key"`
	Sections [5]string `json:"sections" yaml:"sections"`
	VI       string    `json:"vi" yaml:"vi"`
	EN       string    `json:"en" yaml:"en"`
}

// Standard cites TCVN 14423:2026 in our own words: the requirement group, an item number where
// one is known, and a note.
type Standard struct {
	Group string     `json:"group,omitempty" yaml:"group"`
	Item  string     `json:"item,omitempty" yaml:"item"`
	Note  check.Text `json:"note,omitzero" yaml:"note"`
}

// Control is one requirement of the catalog. Ids are stable forever.
type Control struct {
	ID    string `json:"id" yaml:"id"`
	Scope Scope  `json:"scope" yaml:"scope"`
	Group string `json:"group" yaml:"group"`
	// MinLevel is the lowest security level that requires the control; Levels, when set,
	// lists the levels explicitly instead (TCVN 14423:2026 sometimes omits an item at a higher
	// level).
	MinLevel int   `json:"min_level,omitempty" yaml:"min_level"`
	Levels   []int `json:"levels,omitempty" yaml:"levels"`
	// DataClasses, when set, limits a system control to systems holding one of them.
	DataClasses []inventory.DataClass `json:"data_classes,omitempty" yaml:"data_classes"`
	// Mandatory system controls must be attested before a system enters operation.
	Mandatory bool `json:"mandatory,omitempty" yaml:"mandatory"`
	// Validity is how long an approved attestation stands; zero: until superseded.
	Validity        Period         `json:"validity,omitzero" yaml:"validity"`
	ValidityByLevel map[int]Period `json:"validity_by_level,omitempty" yaml:"validity_by_level"`

	Title       check.Text `json:"title" yaml:"title"`
	Description check.Text `json:"description" yaml:"description"` // what "met" means
	Evidence    check.Text `json:"evidence" yaml:"evidence"`       // what to upload

	LegalBasis  []string `json:"legal_basis" yaml:"legal_basis"`
	Standard    Standard `json:"standard,omitzero" yaml:"standard"`
	LegacyBasis []string `json:"legacy_basis,omitempty" yaml:"legacy_basis"`

	// ValidFrom and ValidTo bound when the requirement is in force; a zero ValidTo means
	// still in force. Past dates are recomputed with the controls in force then.
	ValidFrom time.Time `json:"valid_from" yaml:"valid_from"`
	ValidTo   time.Time `json:"valid_to,omitzero" yaml:"valid_to"`
}

// AppliesAt reports whether the control is required at security level level.
func (c Control) AppliesAt(level int) bool {
	if len(c.Levels) > 0 {
		return slices.Contains(c.Levels, level)
	}
	return c.MinLevel >= 1 && level >= c.MinLevel && level <= 5
}

// InForce reports whether the requirement is in force at t.
func (c Control) InForce(t time.Time) bool {
	return !t.Before(c.ValidFrom) && (c.ValidTo.IsZero() || t.Before(c.ValidTo))
}

// AppliesToSystem reports whether a system of this level holding these data classes must meet c
// at t.
func (c Control) AppliesToSystem(level int, classes []inventory.DataClass, t time.Time) bool {
	if c.Scope != ScopeSystem || !c.AppliesAt(level) || !c.InForce(t) {
		return false
	}
	if len(c.DataClasses) == 0 {
		return true
	}
	for _, d := range c.DataClasses {
		if slices.Contains(classes, d) {
			return true
		}
	}
	return false
}

// AppliesToOrg reports whether an organization of this level (OrgLevel) must meet c at t.
func (c Control) AppliesToOrg(level int, t time.Time) bool {
	return c.Scope == ScopeOrganization && c.AppliesAt(level) && c.InForce(t)
}

// ValidityFor returns how long an attestation of c stands for a subject of this level.
func (c Control) ValidityFor(level int) Period {
	if p, ok := c.ValidityByLevel[level]; ok {
		return p
	}
	return c.Validity
}

// ValidUntil returns when an attestation of c valid from from lapses for a subject of this level,
// or the zero time when it does not lapse.
func (c Control) ValidUntil(level int, from time.Time) time.Time {
	p := c.ValidityFor(level)
	if p.IsZero() {
		return time.Time{}
	}
	return p.AddTo(from)
}

// ForSystem returns, in catalog order, the controls a system of this level holding these data
// classes must meet at t.
func ForSystem(controls []Control, level int, classes []inventory.DataClass, t time.Time) []Control {
	var out []Control
	for _, c := range controls {
		if c.AppliesToSystem(level, classes, t) {
			out = append(out, c)
		}
	}
	return out
}

// ForOrg returns, in catalog order, the controls an organization of this level must meet at t.
func ForOrg(controls []Control, level int, t time.Time) []Control {
	var out []Control
	for _, c := range controls {
		if c.AppliesToOrg(level, t) {
			out = append(out, c)
		}
	}
	return out
}

// OrgLevel is the level an organization's own controls are required at: the highest of the
// security levels given (those of its own systems that count), or 1 when none is given.
// Levels outside 1–5 are ignored.
func OrgLevel(systemLevels ...int) int {
	l := 1
	for _, s := range systemLevels {
		if s >= 1 && s <= 5 && s > l {
			l = s
		}
	}
	return l
}

// Catalog is the control catalog: its groups, the TCVN 14423:2026 group table, and the
// controls in catalog order.
type Catalog struct {
	Version        int             `json:"version" yaml:"version"`
	Groups         []Group         `json:"groups" yaml:"groups"`
	StandardGroups []StandardGroup `json:"standard_groups" yaml:"standard_groups"`
	Controls       []Control       `json:"controls" yaml:"controls"`
}

// Load parses the catalog embedded in the binary.
func Load() (*Catalog, error) { return Parse(catalogYAML) }

// Parse parses a catalog document strictly (unknown fields are errors) and checks every control:
// a unique id whose prefix matches its scope, a known group, levels within 1–5, both languages
// of every text, a legal basis, a start of validity, and known standard groups and data classes.
// All problems are reported at once.
func Parse(b []byte) (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("control catalog: %w", err)
	}
	if problems := c.check(); len(problems) > 0 {
		return nil, fmt.Errorf("control catalog: %s", strings.Join(problems, "; "))
	}
	return &c, nil
}

func (cat *Catalog) check() []string {
	var problems []string
	groups := map[string]bool{}
	for _, g := range cat.Groups {
		groups[g.ID] = true
	}
	std := map[string]bool{}
	for _, g := range cat.StandardGroups {
		std[g.Key] = true
	}
	seen := map[string]bool{}
	for i, c := range cat.Controls {
		bad := func(format string, args ...any) {
			name := c.ID
			if name == "" {
				name = fmt.Sprintf("control %d", i+1)
			}
			problems = append(problems, name+": "+fmt.Sprintf(format, args...))
		}
		switch {
		case c.ID == "":
			bad("has no id")
		case seen[c.ID]:
			bad("duplicate id")
		}
		seen[c.ID] = true
		switch c.Scope {
		case ScopeOrganization:
			if !strings.HasPrefix(c.ID, "org.") {
				bad("an organization control's id starts with \"org.\"")
			}
			if len(c.DataClasses) > 0 || c.Mandatory {
				bad("data_classes and mandatory are for system controls")
			}
		case ScopeSystem:
			if !strings.HasPrefix(c.ID, "sys.") {
				bad("a system control's id starts with \"sys.\"")
			}
		default:
			bad("scope %q is not organization or system", c.Scope)
		}
		if !groups[c.Group] {
			bad("group %q is not in groups", c.Group)
		}
		switch {
		case len(c.Levels) > 0 && c.MinLevel != 0:
			bad("give min_level or levels, not both")
		case len(c.Levels) == 0 && (c.MinLevel < 1 || c.MinLevel > 5):
			bad("min_level must be 1 to 5, got %d", c.MinLevel)
		}
		for _, l := range c.Levels {
			if l < 1 || l > 5 {
				bad("level %d is not 1 to 5", l)
			}
		}
		for l := range c.ValidityByLevel {
			if l < 1 || l > 5 {
				bad("validity_by_level: level %d is not 1 to 5", l)
			}
		}
		for _, d := range c.DataClasses {
			if !slices.Contains(inventory.DataClasses, d) {
				bad("data class %q is unknown", d)
			}
		}
		for name, t := range map[string]check.Text{"title": c.Title, "description": c.Description, "evidence": c.Evidence} {
			if strings.TrimSpace(t.VI) == "" || strings.TrimSpace(t.EN) == "" {
				bad("%s needs both vi and en", name)
			}
		}
		if len(c.LegalBasis) == 0 {
			bad("legal_basis is required")
		}
		if c.Standard.Group != "" && !std[c.Standard.Group] {
			bad("standard group %q is not in standard_groups", c.Standard.Group)
		}
		if c.ValidFrom.IsZero() {
			bad("valid_from is required")
		}
		if !c.ValidTo.IsZero() && !c.ValidTo.After(c.ValidFrom) {
			bad("valid_to must be after valid_from")
		}
	}
	slices.Sort(problems)
	return problems
}

// Control returns the control with this id.
func (cat *Catalog) Control(id string) (Control, bool) {
	for _, c := range cat.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}

// Group returns the group with this id.
func (cat *Catalog) Group(id string) (Group, bool) {
	for _, g := range cat.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// StandardRef cites the TCVN 14423:2026 section of c at a security level, for example
// "TCVN 14423:2026 §5.6 (Accounts and access)", or "TCVN 14423:2026" alone when c has no group
// or the level has no such group.
func (cat *Catalog) StandardRef(c Control, level int) string {
	const std = "TCVN 14423:2026"
	if c.Standard.Group == "" || level < 1 || level > 5 {
		return std
	}
	for _, g := range cat.StandardGroups {
		if g.Key == c.Standard.Group && g.Sections[level-1] != "" {
			return fmt.Sprintf("%s §%s (%s)", std, g.Sections[level-1], g.EN)
		}
	}
	return std
}
