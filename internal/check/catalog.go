package check

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// catalogFS holds one YAML file per family, so that families are edited independently.
//
//go:embed catalog/*.yaml
var catalogFS embed.FS

// Def is a catalog entry: what a check means, independent of any result.
type Def struct {
	ID          string   `yaml:"id"`
	Severity    Severity `yaml:"severity"`
	Title       Text     `yaml:"title"`
	Remediation Text     `yaml:"remediation"`
	References  []string `yaml:"references"`
	Detect      string   `yaml:"detect"` // how the check decides, for people reading the catalog
}

// Family returns the family prefix of the id ("tls" for "tls.protocol.tls10").
func (d Def) Family() string {
	f, _, _ := strings.Cut(d.ID, ".")
	return f
}

// Catalog is the set of checks Khiên knows, in catalog order. Ids are stable forever.
type Catalog struct {
	defs  []Def
	index map[string]int
}

// LoadCatalog parses the catalog embedded in the binary, files in name order.
func LoadCatalog() (*Catalog, error) {
	names, err := fs.Glob(catalogFS, "catalog/*.yaml")
	if err != nil {
		return nil, err
	}
	var docs [][]byte
	for _, n := range names {
		b, err := catalogFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		docs = append(docs, b)
	}
	return ParseCatalog(docs...)
}

// ParseCatalog parses catalog documents, checking that every entry is complete and that no
// id appears twice.
func ParseCatalog(docs ...[]byte) (*Catalog, error) {
	var all []Def
	for i, b := range docs {
		var doc struct {
			Checks []Def `yaml:"checks"`
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("check catalog document %d: %w", i+1, err)
		}
		all = append(all, doc.Checks...)
	}
	c := &Catalog{index: make(map[string]int, len(all))}
	var problems []string
	for i, d := range all {
		switch {
		case d.ID == "":
			problems = append(problems, fmt.Sprintf("entry %d has no id", i))
		case c.has(d.ID):
			problems = append(problems, fmt.Sprintf("%s: duplicate id", d.ID))
		case d.Severity.Rank() < 0:
			problems = append(problems, fmt.Sprintf("%s: severity %q is not one of critical, high, medium, low, info", d.ID, d.Severity))
		case d.Title.VI == "" || d.Title.EN == "":
			problems = append(problems, fmt.Sprintf("%s: title needs both vi and en", d.ID))
		case d.Remediation.VI == "" || d.Remediation.EN == "":
			problems = append(problems, fmt.Sprintf("%s: remediation needs both vi and en", d.ID))
		}
		c.index[d.ID] = len(c.defs)
		c.defs = append(c.defs, d)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("check catalog: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

func (c *Catalog) has(id string) bool {
	_, ok := c.index[id]
	return ok
}

// Def returns the entry for id.
func (c *Catalog) Def(id string) (Def, bool) {
	i, ok := c.index[id]
	if !ok {
		return Def{}, false
	}
	return c.defs[i], true
}

// All returns every entry in catalog order.
func (c *Catalog) All() []Def { return slices.Clone(c.defs) }
