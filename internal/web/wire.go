package web

import (
	"time"

	"github.com/khien-vn/khien/internal/inventory"
)

// The wire form of the inventory. Domain types carry no JSON tags: these structs are the
// API's contract, described in openapi.json, and change only with it. Read-only properties
// (created, updated, kind, verified_at) are accepted in requests, so that a GET body can be
// edited and sent back with PUT, and ignored.

// listJSON is the envelope of every listing.
type listJSON[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

func newList[A, B any](items []A, total int, page inventory.Page, conv func(A) B) listJSON[B] {
	out := make([]B, 0, len(items)) // an empty listing is [], not null
	for _, it := range items {
		out = append(out, conv(it))
	}
	return listJSON[B]{Items: out, Total: total, Limit: page.Limit, Offset: page.Offset}
}

type personJSON struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Contact string `json:"contact"`
}

type orgJSON struct {
	Code    string     `json:"code"`
	Name    string     `json:"name"`
	Level   string     `json:"level"`
	Parent  string     `json:"parent"`
	Head    personJSON `json:"head"`
	Created time.Time  `json:"created,omitzero"`
	Updated time.Time  `json:"updated,omitzero"`
}

func orgToJSON(o inventory.Organization) orgJSON {
	return orgJSON{
		Code: o.Code, Name: o.Name, Level: string(o.Level), Parent: o.Parent,
		Head:    personJSON{Name: o.Head.Name, Title: o.Head.Title, Contact: o.Head.Contact},
		Created: o.Created.UTC(), Updated: o.Updated.UTC(),
	}
}

func (j orgJSON) org() inventory.Organization {
	return inventory.Organization{
		Code: j.Code, Name: j.Name, Level: inventory.Level(j.Level), Parent: j.Parent,
		Head: inventory.Person{Name: j.Head.Name, Title: j.Head.Title, Contact: j.Head.Contact},
	}
}

type systemJSON struct {
	ID            string    `json:"id"`
	Org           string    `json:"org"`
	Name          string    `json:"name"`
	Purpose       string    `json:"purpose"`
	Level         int       `json:"level"`
	LevelApproved bool      `json:"level_approved"`
	Stage         string    `json:"stage"`
	DataClasses   []string  `json:"data_classes"`
	Operator      string    `json:"operator"`
	Created       time.Time `json:"created,omitzero"`
	Updated       time.Time `json:"updated,omitzero"`
}

func systemToJSON(s inventory.System) systemJSON {
	classes := make([]string, 0, len(s.DataClasses))
	for _, c := range s.DataClasses {
		classes = append(classes, string(c))
	}
	return systemJSON{
		ID: s.ID, Org: s.Org, Name: s.Name, Purpose: s.Purpose, Level: s.Level,
		LevelApproved: s.LevelApproved, Stage: string(s.Stage), DataClasses: classes,
		Operator: s.Operator, Created: s.Created.UTC(), Updated: s.Updated.UTC(),
	}
}

func (j systemJSON) system() inventory.System {
	var classes []inventory.DataClass
	for _, c := range j.DataClasses {
		classes = append(classes, inventory.DataClass(c))
	}
	return inventory.System{
		ID: j.ID, Org: j.Org, Name: j.Name, Purpose: j.Purpose, Level: j.Level,
		LevelApproved: j.LevelApproved, Stage: inventory.Stage(j.Stage), DataClasses: classes,
		Operator: j.Operator,
	}
}

// resourceJSON never carries the verification token: only the challenge endpoint shows it,
// to whoever may start a verification.
type resourceJSON struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind,omitempty"`
	System      string    `json:"system"`
	Scope       string    `json:"scope"`
	ScopeReason string    `json:"scope_reason"`
	VerifiedAt  time.Time `json:"verified_at,omitzero"`
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

func resourceToJSON(r inventory.Resource) resourceJSON {
	j := resourceJSON{
		ID: r.ID, Kind: string(r.Kind()), System: r.System, Scope: string(r.Scope),
		ScopeReason: r.ScopeReason, Created: r.Created.UTC(), Updated: r.Updated.UTC(),
	}
	if !r.VerifiedAt.IsZero() {
		j.VerifiedAt = r.VerifiedAt.UTC()
	}
	return j
}

func (j resourceJSON) resource() inventory.Resource {
	return inventory.Resource{
		ID: j.ID, System: j.System, Scope: inventory.ScopeStatus(j.Scope), ScopeReason: j.ScopeReason,
	}
}

type challengeJSON struct {
	Resource string `json:"resource"`
	Token    string `json:"token"`
	DNSName  string `json:"dns_name,omitempty"`  // absent for an ip: resource
	DNSValue string `json:"dns_value,omitempty"` // absent for an ip: resource
	HTTPURL  string `json:"http_url,omitempty"`  // absent for a db: resource
	Database string `json:"database,omitempty"`  // db: resources only
	DBValue  string `json:"db_value,omitempty"`
	DBSQL    string `json:"db_sql,omitempty"`
}

func challengeToJSON(c inventory.Challenge) challengeJSON {
	return challengeJSON{Resource: c.Resource, Token: c.Token, DNSName: c.DNSName, DNSValue: c.DNSValue, HTTPURL: c.HTTPURL,
		Database: c.Database, DBValue: c.DBValue, DBSQL: c.DBSQL}
}
