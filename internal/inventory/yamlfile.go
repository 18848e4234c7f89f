package inventory

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The keys of each YAML mapping, in the order export writes them.
var (
	yamlTopKeys      = []string{"version", "organizations", "systems", "resources"}
	yamlOrgKeys      = []string{"code", "name", "level", "parent", "head"}
	yamlHeadKeys     = []string{"name", "title", "contact"}
	yamlSystemKeys   = []string{"id", "org", "name", "purpose", "level", "level_approved", "stage", "data_classes", "operator", "resources"}
	yamlResourceKeys = []string{"id", "scope", "scope_reason", "verified_at"} // under a system
	yamlTopResKeys   = []string{"id", "system", "scope", "scope_reason", "verified_at"}
)

// yamlErrLine takes the line out of the YAML parser's "yaml: line 3: did not find expected key".
var yamlErrLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

func decodeYAML(d *fileData, data []byte) {
	if !d.checkEncoding(data) {
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			d.yamlSyntax(err)
		}
		return
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.addf(extra.Line, "", "the file holds a second YAML document (after ---); put everything in one")
	case !errors.Is(err, io.EOF):
		d.yamlSyntax(err)
	}
	if len(doc.Content) == 0 {
		return
	}
	w := yamlWalker{d}
	root := doc.Content[0]
	if root.ShortTag() == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		d.addf(root.Line, "", "the file must be a mapping with the keys %s", strings.Join(yamlTopKeys, ", "))
		return
	}
	w.fields(root, "", "the file", yamlTopKeys, func(key string, v *yaml.Node) {
		switch key {
		case "version":
			if s, ok := w.str(key, v); ok && strings.TrimSpace(s) != "1" {
				d.addf(v.Line, key, "version %q is not supported; this Khiên reads version 1", s)
			}
		case "organizations":
			w.list(key, v, func(n *yaml.Node) { w.org(n) })
		case "systems":
			w.list(key, v, func(n *yaml.Node) { w.system(n) })
		case "resources":
			w.list(key, v, func(n *yaml.Node) { w.resource(n, "") })
		}
	})
}

// yamlParserProblems are the problems the YAML parser (not its scanner) reports. yaml.v3
// gives them the 0-based line of the enclosing block, or no line for the first, where it gives
// scanner problems their 1-based line.
var yamlParserProblems = []string{
	"did not find expected '-' indicator", "did not find expected key", "did not find expected node content",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected <document start>",
	"did not find expected <stream-start>", "found duplicate %YAML directive", "found duplicate %TAG directive",
	"found incompatible YAML document", "found undefined tag handle",
}

func (d *fileData) yamlSyntax(err error) {
	m := yamlErrLine.FindStringSubmatch(err.Error())
	if m == nil {
		d.addf(0, "", "not valid YAML: %v", err)
		return
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	switch {
	case slices.Contains(yamlParserProblems[:5], msg):
		line++
		msg += " in the block that starts here; check the indentation below it"
	case slices.Contains(yamlParserProblems, msg):
		line++
	case line == 0:
		line = 1
	}
	d.addf(line, "", "not valid YAML: %s", msg)
}

// checkEncoding finds what the YAML reader would refuse without saying where: bytes that are not
// UTF-8 (a file saved in a legacy Vietnamese code page) and control characters.
func (d *fileData) checkEncoding(data []byte) bool {
	line := 1
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && n == 1:
			d.addf(line, "", "the file is not valid UTF-8 text; save it as UTF-8")
			return false
		case r == '\n':
			line++
		case r < 0x20 && r != '\t' && r != '\r', r == 0x7f, r >= 0x80 && r < 0xa0 && r != 0x85, r == 0xfffe, r == 0xffff:
			d.addf(line, "", "the file holds the control character U+%04X; remove it", r)
			return false
		}
		data = data[n:]
	}
	return true
}

// yamlWalker reads the YAML node tree by hand rather than into structs, so that every problem
// gets its line and the walk goes on after one.
type yamlWalker struct{ d *fileData }

// fields calls fn with each key of the mapping n and its value, reporting unknown and repeated
// keys. prefix ("head.") is put before the keys in errors; what names the mapping.
func (w yamlWalker) fields(n *yaml.Node, prefix, what string, known []string, fn func(key string, v *yaml.Node)) {
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.d.addf(k.Line, "", "a key must be a plain name")
			continue
		}
		key := k.Value
		if !slices.Contains(known, key) {
			w.d.addf(k.Line, prefix+key, "unknown field; %s has %s", what, strings.Join(known, ", "))
			continue
		}
		if first, ok := seen[key]; ok {
			w.d.addf(k.Line, prefix+key, "is given twice (first at line %d)", first)
			continue
		}
		seen[key] = k.Line
		fn(key, v)
	}
}

// alias complains about an alias: expanding them is how "billion laughs" files blow up, and
// an inventory has no use for them.
func (w yamlWalker) alias(field string, v *yaml.Node) bool {
	if v.Kind == yaml.AliasNode {
		w.d.addf(v.Line, field, "YAML aliases (*name) are not supported; write the value out")
		return true
	}
	return false
}

// list calls fn with each item of the sequence v.
func (w yamlWalker) list(field string, v *yaml.Node, fn func(*yaml.Node)) {
	if v.ShortTag() == "!!null" || w.alias(field, v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		w.d.addf(v.Line, field, "must be a list (items starting with \"- \")")
		return
	}
	for _, n := range v.Content {
		if !w.alias(field, n) {
			fn(n)
		}
	}
}

// mapping reports whether n is a mapping, complaining if not.
func (w yamlWalker) mapping(n *yaml.Node, field, example string) bool {
	if w.alias(field, n) {
		return false
	}
	if n.Kind != yaml.MappingNode {
		w.d.addf(n.Line, field, "must be a mapping (%s)", example)
		return false
	}
	return true
}

// str returns the text of a scalar; a null is "".
func (w yamlWalker) str(field string, v *yaml.Node) (string, bool) {
	if w.alias(field, v) {
		return "", false
	}
	if v.Kind != yaml.ScalarNode {
		w.d.addf(v.Line, field, "must be a single value, not a list or a mapping")
		return "", false
	}
	if v.ShortTag() == "!!null" {
		return "", true
	}
	return v.Value, true
}

func (w yamlWalker) org(n *yaml.Node) {
	if !w.mapping(n, "organizations", "code: HN, name: …") {
		return
	}
	o := &orgRec{pos: pos{line: n.Line}}
	w.fields(n, "", "an organization", yamlOrgKeys, func(key string, v *yaml.Node) {
		o.setLine(key, v.Line)
		if key == "head" {
			if v.ShortTag() == "!!null" || !w.mapping(v, key, "name: …, title: …, contact: …") {
				return
			}
			w.fields(v, "head.", "head", yamlHeadKeys, func(key string, v *yaml.Node) {
				o.setLine("head."+key, v.Line)
				s, _ := w.str("head."+key, v)
				switch key {
				case "name":
					o.Head.Name = s
				case "title":
					o.Head.Title = s
				case "contact":
					o.Head.Contact = s
				}
			})
			return
		}
		s, _ := w.str(key, v)
		switch key {
		case "code":
			o.Code = s
		case "name":
			o.Name = s
		case "level":
			o.Level = Level(s)
		case "parent":
			o.Parent = s
		}
	})
	w.d.orgs = append(w.d.orgs, o)
}

func (w yamlWalker) system(n *yaml.Node) {
	if !w.mapping(n, "systems", "id: …, org: …, name: …") {
		return
	}
	s := &sysRec{pos: pos{line: n.Line}}
	var resources *yaml.Node
	w.fields(n, "", "a system", yamlSystemKeys, func(key string, v *yaml.Node) {
		s.setLine(key, v.Line)
		switch key {
		case "resources":
			resources = v
			return
		case "data_classes":
			w.list(key, v, func(c *yaml.Node) {
				if v, ok := w.str(key, c); ok {
					s.DataClasses = append(s.DataClasses, DataClass(v))
				}
			})
			return
		}
		v2, ok := w.str(key, v)
		if !ok {
			return
		}
		switch key {
		case "id":
			s.ID = v2
		case "org":
			s.Org = v2
		case "name":
			s.Name = v2
		case "purpose":
			s.Purpose = v2
		case "operator":
			s.Operator = v2
		case "stage":
			s.Stage = Stage(v2)
		case "level":
			s.Level, ok = parseSecurityLevel(v2)
			if !ok {
				w.d.addf(v.Line, key, "%q is not a number; the security level is 1 to 5", v2)
			}
		case "level_approved":
			s.LevelApproved, ok = parseBool(v2)
			if !ok {
				w.d.addf(v.Line, key, "%q is not true or false", v2)
			}
		}
	})
	w.d.systems = append(w.d.systems, s)
	if resources != nil {
		w.list("resources", resources, func(r *yaml.Node) { w.resource(r, strings.TrimSpace(s.ID)) })
	}
}

// resource reads a resource listed under system, or in the top-level list when system is "".
func (w yamlWalker) resource(n *yaml.Node, system string) {
	r := &resRec{pos: pos{line: n.Line}}
	r.System = system
	if n.Kind == yaml.ScalarNode {
		r.ID, _ = w.str("id", n)
		r.written = r.ID
		r.setLine("id", n.Line)
		w.d.resources = append(w.d.resources, r)
		return
	}
	keys := yamlResourceKeys
	if system == "" {
		keys = yamlTopResKeys
	}
	if !w.mapping(n, "resources", "an identifier, or id: …, scope: …") {
		return
	}
	w.fields(n, "", "a resource", keys, func(key string, v *yaml.Node) {
		r.setLine(key, v.Line)
		s, ok := w.str(key, v)
		if !ok {
			return
		}
		switch key {
		case "id":
			r.ID, r.written = s, s
		case "system":
			r.System = s
		case "scope":
			r.Scope, r.scopeGiven = ScopeStatus(strings.TrimSpace(s)), s != ""
		case "scope_reason":
			r.ScopeReason, r.reasonGiven = s, s != ""
		case "verified_at":
			r.VerifiedAt, ok = parseTime(s)
			r.verifiedAtGiven = s != ""
			if !ok {
				w.d.addf(v.Line, key, "%q is not an RFC 3339 time such as 2026-03-01T09:30:00+07:00", s)
			}
		}
	})
	w.d.resources = append(w.d.resources, r)
}

func parseSecurityLevel(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func parseBool(s string) (bool, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return false, true
	}
	b, err := strconv.ParseBool(s)
	return b, err == nil
}

func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// encodeYAML writes inv, already in export order, as YAML.
func encodeYAML(w io.Writer, inv Inventory) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, key string, v *yaml.Node) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	str := func(m *yaml.Node, key, value string) {
		if value != "" {
			add(m, key, yamlStr(value))
		}
	}
	add(root, "version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"})

	if len(inv.Orgs) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, o := range inv.Orgs {
			m := &yaml.Node{Kind: yaml.MappingNode}
			add(m, "code", yamlStr(o.Code))
			add(m, "name", yamlStr(o.Name))
			add(m, "level", yamlStr(string(o.Level)))
			str(m, "parent", o.Parent)
			if o.Head != (Person{}) {
				h := &yaml.Node{Kind: yaml.MappingNode}
				str(h, "name", o.Head.Name)
				str(h, "title", o.Head.Title)
				str(h, "contact", o.Head.Contact)
				add(m, "head", h)
			}
			list.Content = append(list.Content, m)
		}
		add(root, "organizations", list)
	}

	bySystem, orphans := groupResources(inv)
	if len(inv.Systems) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, s := range inv.Systems {
			m := &yaml.Node{Kind: yaml.MappingNode}
			add(m, "id", yamlStr(s.ID))
			add(m, "org", yamlStr(s.Org))
			add(m, "name", yamlStr(s.Name))
			str(m, "purpose", s.Purpose)
			add(m, "level", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(s.Level)})
			add(m, "level_approved", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(s.LevelApproved)})
			add(m, "stage", yamlStr(string(s.Stage)))
			if len(s.DataClasses) > 0 {
				dc := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
				for _, c := range s.DataClasses {
					dc.Content = append(dc.Content, yamlStr(string(c)))
				}
				add(m, "data_classes", dc)
			}
			str(m, "operator", s.Operator)
			if rs := bySystem[s.ID]; len(rs) > 0 {
				add(m, "resources", yamlResources(rs, false))
			}
			list.Content = append(list.Content, m)
		}
		add(root, "systems", list)
	}
	if len(orphans) > 0 {
		add(root, "resources", yamlResources(orphans, true))
	}

	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return err
	}
	return enc.Close()
}

func yamlStr(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// yamlResources lists resources: a resource with nothing but its identifier is written as a
// plain string, the others as mappings that always say their scope (so that an import, which
// keeps the stored scope when the file says none, sets exactly what was exported).
func yamlResources(rs []Resource, withSystem bool) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range rs {
		if !withSystem && plainResource(r) {
			list.Content = append(list.Content, yamlStr(r.ID))
			continue
		}
		m := &yaml.Node{Kind: yaml.MappingNode}
		kv := func(k, v string) {
			m.Content = append(m.Content, yamlStr(k), yamlStr(v))
		}
		kv("id", r.ID)
		if withSystem {
			kv("system", r.System)
		}
		if !plainResource(r) {
			kv("scope", string(scopeOf(r)))
		}
		if r.ScopeReason != "" {
			kv("scope_reason", r.ScopeReason)
		}
		if at := verifiedAt(r); at != "" {
			kv("verified_at", at)
		}
		list.Content = append(list.Content, m)
	}
	return list
}
