package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/khien-vn/khien/internal/errs"
)

// Format is an inventory file format: "yaml" or "csv". docs/inventory.md describes both.
type Format string

// The inventory file formats.
const (
	FormatYAML Format = "yaml"
	FormatCSV  Format = "csv"
)

// MaxFileSize bounds what Import and ParseFile read, so that a wrong file (a disk image, a
// database dump) fails quickly instead of filling memory. A province's inventory is far smaller.
const MaxFileSize = 32 << 20

// FormatOf picks the format of path by its extension: .yaml or .yml, or .csv.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return FormatYAML, nil
	case ".csv":
		return FormatCSV, nil
	}
	return "", errs.E(errs.Invalid, "%s: cannot tell the format from the extension; name the file .yaml, .yml or .csv", path)
}

// ParseFormat checks a format named by the user ("yaml", "yml", "csv", any case).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yaml", "yml":
		return FormatYAML, nil
	case "csv":
		return FormatCSV, nil
	}
	return "", errs.E(errs.Invalid, "unknown format %q; use yaml or csv", s)
}

// FileError is one problem in an inventory file, at a line (0 when it concerns the whole
// file) and a field (a YAML key or CSV column, empty when none is at fault).
type FileError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats e as "file:line: field: reason".
func (e FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FileErrors is every problem found in an inventory file, in line order. It unwraps to an
// *errs.Error of kind Invalid whose message is the whole list, so boundaries that map
// errs kinds (exit code 2, HTTP 400) treat it as invalid input and show every line.
type FileErrors []FileError

// Error returns one "file:line: field: reason" per line.
func (es FileErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap classifies the list as invalid input.
func (es FileErrors) Unwrap() error {
	return &errs.Error{Kind: errs.Invalid, Msg: es.Error()}
}

// ParseFile decodes an inventory file and checks everything that can be checked without the
// store: syntax, unknown fields, each record's fields (with the types' Validate methods, so
// identifiers come back normalized), codes and identifiers given twice, a resource listed
// under two systems, and cycles among the file's organizations. References to organizations
// and systems that are not in the file are not errors here, since they may be stored: Import
// checks them. Every problem is returned at once as a FileErrors, along with what could be
// parsed; a resource whose scope the file leaves out comes back unverified.
func ParseFile(name string, r io.Reader, f Format) (Inventory, error) {
	d, err := readFile(name, r, f)
	if err != nil {
		return Inventory{}, err
	}
	d.validate()
	if err := d.checkTree(context.Background(), nil); err != nil {
		return Inventory{}, err // cannot happen without a store
	}
	return d.inventory(), d.err()
}

// readFile reads and decodes a file; it fails only when reading does (problems in the file are
// collected in the result).
func readFile(name string, r io.Reader, f Format) (*fileData, error) {
	if f != FormatYAML && f != FormatCSV {
		return nil, errs.E(errs.Invalid, "unknown format %q; use yaml or csv", f)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	d := &fileData{name: name, format: f}
	if len(data) > MaxFileSize {
		d.addf(0, "", "the file is larger than %d MiB; split it into several imports", MaxFileSize>>20)
		return d, nil
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // Excel and Notepad start UTF-8 files with a BOM
	if f == FormatYAML {
		decodeYAML(d, data)
	} else {
		decodeCSV(d, data)
	}
	return d, nil
}

// fileData is a decoded file: its records with the lines they came from, and the problems found.
type fileData struct {
	name      string
	format    Format
	orgs      []*orgRec
	systems   []*sysRec
	resources []*resRec
	errs      FileErrors

	orgByCode map[string]*orgRec // first record of each code, filled by validate
	sysByID   map[string]*sysRec
}

// pos is where a record and each of its fields are in the file.
type pos struct {
	line  int            // the record's first line
	lines map[string]int // the line of each field's value
}

func (p *pos) setLine(field string, line int) {
	if p.lines == nil {
		p.lines = make(map[string]int)
	}
	p.lines[field] = line
}

// at returns the line of field, or the record's line when the field is absent.
func (p *pos) at(field string) int {
	if l, ok := p.lines[field]; ok && l > 0 {
		return l
	}
	return p.line
}

type orgRec struct {
	Organization
	pos
	badKey bool // the code is invalid or repeated: nothing is looked up or written for it
}

type sysRec struct {
	System
	pos
	badKey bool
}

type resRec struct {
	Resource
	pos
	written                      string // the identifier as the file spells it
	scopeGiven                   bool   // the file sets scope; when it does not, an import keeps the stored scope
	reasonGiven, verifiedAtGiven bool
	badKey                       bool
}

func (d *fileData) addf(line int, field, format string, args ...any) {
	d.errs = append(d.errs, FileError{File: d.name, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// addErr records err, an error from a Validate method, at the line of the field it names.
func (d *fileData) addErr(p *pos, err error) {
	for _, e := range flatten(err) {
		var fe *errs.Error
		if errors.As(e, &fe) {
			d.addf(p.at(fe.Field), fe.Field, "%s", fe.Msg)
		} else {
			d.addf(p.line, "", "%v", e)
		}
	}
}

// faults reports whether err, from a Validate method, is about field.
func faults(err error, field string) bool {
	for _, e := range flatten(err) {
		var fe *errs.Error
		if errors.As(e, &fe) && fe.Field == field {
			return true
		}
	}
	return false
}

// flatten undoes errors.Join.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// err returns the problems sorted by line (stable, so that one line's problems keep the order
// in which they were found), or nil.
func (d *fileData) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b FileError) int { return a.Line - b.Line })
	return d.errs
}

// inventory returns the records, without the ones that repeat a key.
func (d *fileData) inventory() Inventory {
	var inv Inventory
	for _, o := range d.orgs {
		if d.orgByCode[o.Code] == o {
			inv.Orgs = append(inv.Orgs, o.Organization)
		}
	}
	for _, s := range d.systems {
		if d.sysByID[s.ID] == s {
			inv.Systems = append(inv.Systems, s.System)
		}
	}
	for _, r := range d.resources {
		if !r.badKey {
			inv.Resources = append(inv.Resources, r.Resource)
		}
	}
	return inv
}

// checkText refuses control characters other than tab and newline in a text field: they are
// invisible, and CSV readers turn "\r\n" inside a cell into "\n", so a file holding them would
// not come back from export as it went in.
func (d *fileData) checkText(p *pos, field, s string) {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			d.addf(p.at(field), field, "holds the control character U+%04X; remove it", r)
			return
		}
	}
}

// headField names a field of an organization's head as the format spells it.
func (d *fileData) headField(f string) string {
	if d.format == FormatCSV {
		return "head_" + f
	}
	return "head." + f
}

// validate checks each record's fields and what the file repeats.
func (d *fileData) validate() {
	d.orgByCode = make(map[string]*orgRec)
	for _, o := range d.orgs {
		d.checkText(&o.pos, "name", o.Name)
		d.checkText(&o.pos, d.headField("name"), o.Head.Name)
		d.checkText(&o.pos, d.headField("title"), o.Head.Title)
		d.checkText(&o.pos, d.headField("contact"), o.Head.Contact)
		err := o.Validate()
		d.addErr(&o.pos, err)
		o.badKey = faults(err, "code")
		if first, ok := d.orgByCode[o.Code]; ok {
			if !o.badKey {
				d.addf(o.at("code"), "code", "organization %q is defined twice (first at line %d)", o.Code, first.at("code"))
			}
			o.badKey = true
			continue
		}
		d.orgByCode[o.Code] = o
	}

	d.sysByID = make(map[string]*sysRec)
	for _, s := range d.systems {
		d.checkText(&s.pos, "name", s.Name)
		d.checkText(&s.pos, "purpose", s.Purpose)
		d.checkText(&s.pos, "operator", s.Operator)
		err := s.Validate()
		d.addErr(&s.pos, err)
		s.badKey = faults(err, "id")
		if first, ok := d.sysByID[s.ID]; ok {
			if !s.badKey {
				d.addf(s.at("id"), "id", "system %q is defined twice (first at line %d)", s.ID, first.at("id"))
			}
			s.badKey = true
			continue
		}
		d.sysByID[s.ID] = s
	}

	resByID := make(map[string]*resRec)
	for _, r := range d.resources {
		d.validateResource(r)
		if r.badKey {
			continue
		}
		first, ok := resByID[r.ID]
		if !ok {
			resByID[r.ID] = r
			continue
		}
		r.badKey = true
		spelled := ""
		if r.written != r.ID {
			spelled = fmt.Sprintf(" (written %s)", r.written)
		}
		if first.System == r.System {
			d.addf(r.at("id"), "id", "resource %s%s is listed twice (first at line %d)", r.ID, spelled, first.at("id"))
		} else {
			d.addf(r.at("id"), "id", "resource %s%s is listed under system %q and under system %q (line %d); a resource belongs to one system",
				r.ID, spelled, r.System, first.System, first.at("id"))
		}
	}
}

// validateResource runs Resource.Validate and the file's own rules about scope. Validate stops
// at its first problem, so the identifier is checked on its own first: a file with a bad
// identifier and a bad scope on one line gets both reported.
func (d *fileData) validateResource(r *resRec) {
	r.System = strings.TrimSpace(r.System)
	d.checkText(&r.pos, "scope_reason", r.ScopeReason)
	norm, err := Normalize(r.ID)
	switch {
	case strings.TrimSpace(r.ID) == "":
		d.addf(r.at("id"), "id", "is required")
	case err != nil:
		d.addErr(&r.pos, err)
	}
	if err != nil {
		r.badKey = true
		norm = "host:placeholder" // lets Validate check the other fields
	}
	check := r.Resource
	check.ID = norm
	if err := check.Validate(); err != nil {
		d.addErr(&r.pos, err)
	}
	if !r.badKey {
		r.ID = norm
	}
	if r.Scope == "" {
		r.Scope = ScopeUnverified
	}
	switch {
	case !r.scopeGiven && (r.reasonGiven || r.verifiedAtGiven):
		field := "scope_reason"
		if !r.reasonGiven {
			field = "verified_at"
		}
		d.addf(r.at(field), field, "give the scope it goes with (scope: assigned, or unverified)")
	case r.verifiedAtGiven && r.Scope != ScopeVerified:
		d.addf(r.at("verified_at"), "verified_at", "only a verified resource has a verification time; remove it")
	}
}

// parentOf returns the parent of code in the tree an import of the file would make: the file's
// when the file defines code, else the stored one (v nil: nothing is stored). known is false
// when code is in neither.
func (d *fileData) parentOf(ctx context.Context, v *storeView, code string) (parent string, known bool, err error) {
	if o, ok := d.orgByCode[code]; ok {
		return o.Parent, true, nil
	}
	if v == nil {
		return "", false, nil
	}
	o, err := v.org(ctx, code)
	if o == nil || err != nil {
		return "", false, err
	}
	return o.Parent, true, nil
}

// checkTree checks the parents of the file's organizations: each must exist in the file or
// in the store (when v is not nil), and no parent may lead back to its child, whether the
// loop lies within the file or runs through stored organizations. Each organization is walked
// up once, so a deep tree costs linear time.
func (d *fileData) checkTree(ctx context.Context, v *storeView) error {
	done := make(map[string]bool) // leads to a root, a missing parent or a reported loop
	for _, o := range d.orgs {
		if o.badKey || o.Parent == "" || o.Parent == o.Code || done[o.Code] {
			continue
		}
		_, known, err := d.parentOf(ctx, v, o.Parent)
		if err != nil {
			return err
		}
		if !known {
			if v != nil {
				d.addf(o.at("parent"), "parent", "organization %q is not in the file or the inventory", o.Parent)
			}
			done[o.Code] = true
			continue
		}
		var path []string
		at := make(map[string]int) // index in path
		for c := o.Code; c != "" && !done[c]; {
			if i, ok := at[c]; ok {
				if len(path)-i > 1 { // an organization that is its own parent is Validate's to report
					d.reportLoop(path[i:])
				}
				break
			}
			at[c] = len(path)
			path = append(path, c)
			next, known, err := d.parentOf(ctx, v, c)
			if err != nil {
				return err
			}
			if !known {
				break
			}
			c = next
		}
		for _, c := range path {
			done[c] = true
		}
	}
	return nil
}

// reportLoop reports a loop of parents (each the child of the next, the last the child of the
// first) at the first of its organizations in the file.
func (d *fileData) reportLoop(loop []string) {
	start := -1
	for i, c := range loop {
		if o := d.orgByCode[c]; o != nil && (start < 0 || o.line < d.orgByCode[loop[start]].line) {
			start = i
		}
	}
	if start < 0 {
		return // cannot happen: stored organizations form a tree, so a loop uses a parent from the file
	}
	cycle := append(slices.Clone(loop[start:]), loop[:start]...)
	cycle = append(cycle, cycle[0])
	o := d.orgByCode[cycle[0]]
	d.addf(o.at("parent"), "parent", "making %q the parent of %q would create a cycle (%s)", cycle[1], cycle[0], strings.Join(cycle, " → "))
}

// depth returns how many ancestors code has in the tree the import makes, remembering the
// depths it learns in memo so that a whole file costs linear time.
func (d *fileData) depth(ctx context.Context, v *storeView, code string, memo map[string]int) (int, error) {
	var path []string
	base := -1 // the depth above the top of path
	for c := code; c != "" && len(path) < maxDepth; {
		if n, ok := memo[c]; ok {
			base = n
			break
		}
		path = append(path, c)
		parent, _, err := d.parentOf(ctx, v, c)
		if err != nil {
			return 0, err
		}
		c = parent
	}
	for i := len(path) - 1; i >= 0; i-- {
		base++
		memo[path[i]] = base
	}
	return memo[code], nil
}

// storeView answers Import's questions about what is stored, asking the store once per key.
type storeView struct {
	s         Store
	orgs      map[string]*Organization // nil value: not stored
	systems   map[string]*System
	resources map[string]*Resource
}

func newStoreView(s Store) *storeView {
	return &storeView{s: s, orgs: map[string]*Organization{}, systems: map[string]*System{}, resources: map[string]*Resource{}}
}

func (v *storeView) org(ctx context.Context, code string) (*Organization, error) {
	return lookup(ctx, v.orgs, code, v.s.Org)
}

func (v *storeView) system(ctx context.Context, id string) (*System, error) {
	return lookup(ctx, v.systems, id, v.s.System)
}

func (v *storeView) resource(ctx context.Context, id string) (*Resource, error) {
	return lookup(ctx, v.resources, id, v.s.Resource)
}

// lookup returns the cached or stored row of key, nil when it is not stored.
func lookup[T any](ctx context.Context, cache map[string]*T, key string, get func(context.Context, string) (T, error)) (*T, error) {
	if v, ok := cache[key]; ok {
		return v, nil
	}
	row, err := get(ctx, key)
	switch {
	case errs.Is(err, errs.NotFound):
		cache[key] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	cache[key] = &row
	return &row, nil
}
