package inventory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// csvColumns is the CSV header, in the order export writes it. A row's type says which
// columns it uses (csvUses); the others must be empty. "name", "level" and "id" are shared:
// an organization's level is its place in the hierarchy, a system's its security level 1–5.
var csvColumns = []string{
	"type",
	"code", "name", "level", "parent", "head_name", "head_title", "head_contact",
	"id", "org", "purpose", "level_approved", "stage", "data_classes", "operator",
	"system", "scope", "scope_reason", "verified_at",
}

const (
	csvOrganization = "organization"
	csvSystem       = "system"
	csvResource     = "resource"
)

var csvUses = map[string][]string{
	csvOrganization: {"code", "name", "level", "parent", "head_name", "head_title", "head_contact"},
	csvSystem:       {"id", "org", "name", "purpose", "level", "level_approved", "stage", "data_classes", "operator"},
	csvResource:     {"id", "system", "scope", "scope_reason", "verified_at"},
}

// csvArticle gives each row type the article error messages put before it.
var csvArticle = map[string]string{csvOrganization: "an", csvSystem: "a", csvResource: "a"}

func decodeCSV(d *fileData, data []byte) {
	cr := csv.NewReader(bytes.NewReader(data))
	// Spreadsheets set to Vietnamese (where ',' is the decimal separator) save CSV with ';'.
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if !bytes.ContainsRune(first, ',') && bytes.ContainsRune(first, ';') {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = 0 // every record has as many fields as the header
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return
	}
	if err != nil {
		d.csvSyntax(err)
		return
	}
	hline, _ := cr.FieldPos(0)
	cols := make(map[string]int)
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch _, dup := cols[name]; {
		case name == "":
			d.addf(hline, "", "column %d of the header has no name; the columns are %s", i+1, strings.Join(csvColumns, ","))
		case !slices.Contains(csvColumns, name):
			d.addf(hline, h, "unknown column; the columns are %s", strings.Join(csvColumns, ","))
		case dup:
			d.addf(hline, name, "the header names this column twice")
		default:
			cols[name] = i
		}
	}
	if _, ok := cols["type"]; !ok {
		d.addf(hline, "type", "the header has no type column; the first line must name the columns: %s", strings.Join(csvColumns, ","))
		return
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			d.addf(pe.StartLine, "", "the row has %d fields, the header %d", len(rec), len(header))
			continue
		}
		if err != nil {
			d.csvSyntax(err) // the reader cannot find the next record reliably after this
			return
		}
		line, _ := cr.FieldPos(0)
		d.csvRecord(line, rec, cols)
	}
}

func (d *fileData) csvSyntax(err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		d.addf(pe.StartLine, "", "not valid CSV: %v", pe.Err)
		return
	}
	d.addf(0, "", "not valid CSV: %v", err)
}

// csvRecord reads one row starting at line.
func (d *fileData) csvRecord(line int, rec []string, cols map[string]int) {
	get := func(col string) string {
		if i, ok := cols[col]; ok {
			return rec[i]
		}
		return ""
	}
	typ := strings.ToLower(strings.TrimSpace(get("type")))
	uses, ok := csvUses[typ]
	if !ok {
		d.addf(line, "type", "%q is not one of %s, %s, %s", get("type"), csvOrganization, csvSystem, csvResource)
		return
	}
	ok = true
	for _, col := range csvColumns[1:] {
		v := get(col)
		switch {
		case !utf8.ValidString(v):
			d.addf(line, col, "is not valid UTF-8; save the file as \"CSV UTF-8\"")
			ok = false
		case v != "" && !slices.Contains(uses, col):
			d.addf(line, col, "does not apply to %s %s; leave it empty", csvArticle[typ], typ)
		}
	}
	if !ok {
		return
	}
	p := pos{line: line}
	switch typ {
	case csvOrganization:
		d.orgs = append(d.orgs, &orgRec{pos: p, Organization: Organization{
			Code:   get("code"),
			Name:   get("name"),
			Level:  Level(strings.TrimSpace(get("level"))),
			Parent: get("parent"),
			Head:   Person{Name: get("head_name"), Title: get("head_title"), Contact: get("head_contact")},
		}})
	case csvSystem:
		s := &sysRec{pos: p, System: System{
			ID:       get("id"),
			Org:      get("org"),
			Name:     get("name"),
			Purpose:  get("purpose"),
			Stage:    Stage(strings.TrimSpace(get("stage"))),
			Operator: get("operator"),
		}}
		var ok bool
		if s.Level, ok = parseSecurityLevel(get("level")); !ok {
			d.addf(line, "level", "%q is not a number; the security level is 1 to 5", get("level"))
		}
		if s.LevelApproved, ok = parseBool(get("level_approved")); !ok {
			d.addf(line, "level_approved", "%q is not true or false", get("level_approved"))
		}
		for _, c := range strings.Split(get("data_classes"), ";") {
			if c = strings.TrimSpace(c); c != "" {
				s.DataClasses = append(s.DataClasses, DataClass(c))
			}
		}
		d.systems = append(d.systems, s)
	case csvResource:
		r := &resRec{pos: p, Resource: Resource{
			ID:          get("id"),
			System:      get("system"),
			Scope:       ScopeStatus(strings.TrimSpace(get("scope"))),
			ScopeReason: get("scope_reason"),
		}}
		r.written = r.ID
		r.scopeGiven = r.Scope != ""
		r.reasonGiven = r.ScopeReason != ""
		r.verifiedAtGiven = get("verified_at") != ""
		var ok bool
		if r.VerifiedAt, ok = parseTime(get("verified_at")); !ok {
			d.addf(line, "verified_at", "%q is not an RFC 3339 time such as 2026-03-01T09:30:00+07:00", get("verified_at"))
		}
		d.resources = append(d.resources, r)
	}
}

// encodeCSV writes inv, already in export order, as CSV: the organizations, then each system
// followed by its resources, then the resources of systems inv does not hold.
func encodeCSV(w io.Writer, inv Inventory) error {
	cw := csv.NewWriter(w)
	index := make(map[string]int, len(csvColumns))
	for i, c := range csvColumns {
		index[c] = i
	}
	write := func(typ string, kv ...string) {
		row := make([]string, len(csvColumns))
		row[0] = typ
		for i := 0; i+1 < len(kv); i += 2 {
			row[index[kv[i]]] = kv[i+1]
		}
		cw.Write(row) // errors are sticky: cw.Error reports them after Flush
	}
	resource := func(r Resource) {
		scope := ""
		if !plainResource(r) {
			scope = string(scopeOf(r))
		}
		write(csvResource, "id", r.ID, "system", r.System, "scope", scope, "scope_reason", r.ScopeReason, "verified_at", verifiedAt(r))
	}

	cw.Write(csvColumns)
	for _, o := range inv.Orgs {
		write(csvOrganization, "code", o.Code, "name", o.Name, "level", string(o.Level), "parent", o.Parent,
			"head_name", o.Head.Name, "head_title", o.Head.Title, "head_contact", o.Head.Contact)
	}
	bySystem, orphans := groupResources(inv)
	for _, s := range inv.Systems {
		dc := make([]string, len(s.DataClasses))
		for i, c := range s.DataClasses {
			dc[i] = string(c)
		}
		write(csvSystem, "id", s.ID, "org", s.Org, "name", s.Name, "purpose", s.Purpose,
			"level", strconv.Itoa(s.Level), "level_approved", strconv.FormatBool(s.LevelApproved),
			"stage", string(s.Stage), "data_classes", strings.Join(dc, ";"), "operator", s.Operator)
		for _, r := range bySystem[s.ID] {
			resource(r)
		}
	}
	for _, r := range orphans {
		resource(r)
	}
	cw.Flush()
	return cw.Error()
}
