// Package inventory is the register Directive 57 asks every agency to keep: its organizations
// as a tree, their information systems, and the Internet resources of each system under one
// unified identifier. Everything else in Khiên (assessment, index, gate) starts from here.
//
// The package holds the domain types, their validation, the identifier normalization, the
// Store contract that store/sqlite and store/postgres implement, the Service that applies the
// rules, and the YAML/CSV import and export format.
package inventory

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

// Level is an organization's place in the administrative hierarchy.
type Level string

// Organization levels, from the top of the political system down.
const (
	LevelCentral    Level = "central"
	LevelMinistry   Level = "ministry"
	LevelProvince   Level = "province"
	LevelDepartment Level = "department"
	LevelDistrict   Level = "district"
	LevelCommune    Level = "commune"
)

// Levels lists the valid organization levels in hierarchy order.
var Levels = []Level{LevelCentral, LevelMinistry, LevelProvince, LevelDepartment, LevelDistrict, LevelCommune}

// Stage is a system's lifecycle stage; the go-live gate guards the move into operation.
type Stage string

// Lifecycle stages, in order.
const (
	StagePlanning  Stage = "planning"
	StageDesign    Stage = "design"
	StageBuild     Stage = "build"
	StageTest      Stage = "test"
	StageOperation Stage = "operation"
	StageRetired   Stage = "retired"
)

// Stages lists the valid lifecycle stages in order.
var Stages = []Stage{StagePlanning, StageDesign, StageBuild, StageTest, StageOperation, StageRetired}

// DataClass is a class of data a system holds; it drives data-security policy.
type DataClass string

// Data classes, after the Personal Data Protection Law 91/2025 and the state-secret law.
const (
	DataPersonal          DataClass = "personal"
	DataSensitivePersonal DataClass = "sensitive_personal"
	DataStateSecret       DataClass = "state_secret"
)

// DataClasses lists the valid data classes.
var DataClasses = []DataClass{DataPersonal, DataSensitivePersonal, DataStateSecret}

// ScopeStatus says whether Khiên may actively scan a resource.
type ScopeStatus string

// Scope statuses. Only Verified and Assigned resources may be scanned by the server.
const (
	ScopeUnverified ScopeStatus = "unverified"
	ScopeAssigned   ScopeStatus = "assigned" // an administrator vouched, with a reason
	ScopeVerified   ScopeStatus = "verified" // ownership proven by a DNS TXT or HTTP token
)

// ScopeStatuses lists the valid scope statuses.
var ScopeStatuses = []ScopeStatus{ScopeUnverified, ScopeAssigned, ScopeVerified}

// Person is the responsible head of an organization, or a system's operator contact.
type Person struct {
	Name    string
	Title   string
	Contact string // e-mail or phone, as the agency publishes it
}

// Organization is a node of the tree: a ministry, a province, a department, a commune.
type Organization struct {
	Code             string // stable unified code, e.g. "HN" or "HN.STTTT"; the key everywhere
	Name             string
	Level            Level
	Parent           string // code of the parent; empty for a root
	Head             Person
	Created, Updated time.Time
}

// System is an information system or database owned by one organization.
type System struct {
	ID               string // stable id chosen by the agency or generated, e.g. "hn-cong-dich-vu-cong"
	Org              string // owner organization code
	Name             string
	Purpose          string
	Level            int // security level 1–5 (Decree 331/2026; Decree 85/2016 levels carry over)
	LevelApproved    bool
	Stage            Stage
	DataClasses      []DataClass
	Operator         string
	Created, Updated time.Time
}

// Resource is something the engines can look at, under its unified identifier.
type Resource struct {
	ID          string // normalized unified identifier, e.g. "dns:xn--b-y-t-...vn"
	System      string
	Scope       ScopeStatus
	ScopeReason string // who vouched and why (assigned), or how it was proven (verified)
	// VerifyToken is the token Khiên issued for the ownership challenge; empty when none is pending.
	VerifyToken      string
	VerifiedAt       time.Time
	Created, Updated time.Time
}

// Kind returns the identifier kind of r ("dns", "ip", ...).
func (r Resource) Kind() Kind {
	k, _, _ := strings.Cut(r.ID, ":")
	return Kind(k)
}

// Value returns the identifier without its kind prefix.
func (r Resource) Value() string {
	_, v, _ := strings.Cut(r.ID, ":")
	return v
}

// Scannable reports whether the server may scan r at all.
func (r Resource) Scannable() bool {
	return r.Scope == ScopeVerified || r.Scope == ScopeAssigned
}

// Validate checks an organization's own fields (not its place in the tree). Every problem is
// reported, joined; each is an *errs.Error of kind Invalid naming its field.
func (o *Organization) Validate() error {
	o.Code = strings.TrimSpace(o.Code)
	o.Name = strings.TrimSpace(o.Name)
	o.Parent = strings.TrimSpace(o.Parent)
	var problems []error
	if err := validCode(o.Code); err != nil {
		problems = append(problems, errs.Field("code", "%s", err.Msg))
	}
	if o.Name == "" {
		problems = append(problems, errs.Field("name", "is required"))
	}
	if !slices.Contains(Levels, o.Level) {
		problems = append(problems, errs.Field("level", "%q is not one of %s", o.Level, joinQuoted(Levels)))
	}
	if o.Parent != "" && o.Parent == o.Code {
		problems = append(problems, errs.Field("parent", "an organization cannot be its own parent"))
	}
	return errors.Join(problems...)
}

// Validate checks a system's own fields (not whether its organization exists).
func (s *System) Validate() error {
	s.ID = strings.TrimSpace(s.ID)
	s.Org = strings.TrimSpace(s.Org)
	s.Name = strings.TrimSpace(s.Name)
	var problems []error
	if err := validCode(s.ID); err != nil {
		problems = append(problems, errs.Field("id", "%s", err.Msg))
	}
	if s.Org == "" {
		problems = append(problems, errs.Field("org", "is required"))
	}
	if s.Name == "" {
		problems = append(problems, errs.Field("name", "is required"))
	}
	if s.Level < 1 || s.Level > 5 {
		problems = append(problems, errs.Field("level", "security level must be 1 to 5, got %d", s.Level))
	}
	if !slices.Contains(Stages, s.Stage) {
		problems = append(problems, errs.Field("stage", "%q is not one of %s", s.Stage, joinQuoted(Stages)))
	}
	for _, c := range s.DataClasses {
		if !slices.Contains(DataClasses, c) {
			problems = append(problems, errs.Field("data_classes", "%q is not one of %s", c, joinQuoted(DataClasses)))
		}
	}
	slices.Sort(s.DataClasses)
	s.DataClasses = slices.Compact(s.DataClasses)
	return errors.Join(problems...)
}

// Validate normalizes r's identifier and checks its scope fields.
func (r *Resource) Validate() error {
	id, err := Normalize(r.ID)
	if err != nil {
		return err
	}
	r.ID = id
	if r.Scope == "" {
		r.Scope = ScopeUnverified
	}
	if !slices.Contains(ScopeStatuses, r.Scope) {
		return errs.Field("scope", "%q is not one of %s", r.Scope, joinQuoted(ScopeStatuses))
	}
	if strings.TrimSpace(r.System) == "" {
		return errs.Field("system", "is required")
	}
	if r.Scope == ScopeAssigned && strings.TrimSpace(r.ScopeReason) == "" {
		return errs.Field("scope_reason", "an assigned scope needs the reason an administrator vouched for it")
	}
	return nil
}

// validCode accepts the codes and ids agencies use: letters, digits, '.', '-', '_', up to 64.
func validCode(c string) *errs.Error {
	if c == "" {
		return errs.E(errs.Invalid, "is required")
	}
	if len(c) > 64 {
		return errs.E(errs.Invalid, "%q is longer than 64 characters", c)
	}
	for _, r := range c {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'
		if !ok {
			return errs.E(errs.Invalid, "%q may hold only ASCII letters, digits, '.', '-' and '_'", c)
		}
	}
	return nil
}

func joinQuoted[T ~string](vs []T) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = string(v)
	}
	return strings.Join(q, ", ")
}
