package assurance

import (
	"strconv"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/index"
)

// OneDecimal is a figure written with exactly one decimal in JSON (64.5, 60.0): the official
// figure, an integer number of tenths.
type OneDecimal float64

// MarshalJSON writes f with one decimal.
func (f OneDecimal) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(f), 'f', 1, 64), nil
}

// Figure is the official figure of a number of tenths.
func Figure(tenths int) OneDecimal { return OneDecimal(float64(tenths) / 10) }

// View is an organization's index as the CLI, the API and the reports show it: the figure,
// the grade with its names, the pillars, the systems of its subtree and its actions, with the
// full explained result beside them.
type View struct {
	Org      string         `json:"org"`
	Name     string         `json:"name"`
	At       time.Time      `json:"at"`
	Day      string         `json:"day"`
	Method   string         `json:"method"`
	Index    OneDecimal     `json:"index"`
	Tenths   int            `json:"tenths"`
	Grade    index.Grade    `json:"grade"`
	GradeVI  string         `json:"grade_vi"`
	GradeEN  string         `json:"grade_en"`
	Rank     int            `json:"rank"`
	Peers    int            `json:"peers"`
	Pillars  []PillarView   `json:"pillars"`
	Systems  []SystemView   `json:"systems"`
	Actions  []index.Action `json:"actions"`
	Caps     []index.Cap    `json:"caps"`
	Counts   index.Counts   `json:"counts"`
	Children []ChildView    `json:"children"`
	// Stored is set when this is a stored day's snapshot, recomputed from its stored Input;
	// Verified says whether the recomputation equals the stored result exactly.
	Stored   bool             `json:"stored"`
	Verified bool             `json:"verified"`
	Mismatch string           `json:"mismatch,omitempty"`
	Future   *FutureView      `json:"future,omitempty"`
	Result   *index.OrgResult `json:"result"`
}

// PillarView is one pillar's points, 0–20.
type PillarView struct {
	Pillar index.Pillar `json:"pillar"`
	Points OneDecimal   `json:"points"`
	Reason check.Text   `json:"reason"`
}

// SystemView is one system of the subtree.
type SystemView struct {
	System string       `json:"system"`
	Name   string       `json:"name"`
	Org    string       `json:"org"`
	Level  int          `json:"level"`
	Stage  string       `json:"stage"`
	Index  OneDecimal   `json:"index"`
	Tenths int          `json:"tenths"`
	Grade  index.Grade  `json:"grade"`
	Weight float64      `json:"weight"`
	Counts index.Counts `json:"counts"`
}

// ChildView is one child organization.
type ChildView struct {
	Org    string      `json:"org"`
	Name   string      `json:"name"`
	Index  OneDecimal  `json:"index"`
	Tenths int         `json:"tenths"`
	Grade  index.Grade `json:"grade"`
	Rank   int         `json:"rank"`
}

// FutureView is the index under the next scheduled method.
type FutureView struct {
	Method string      `json:"method"`
	From   time.Time   `json:"effective_from"`
	Index  OneDecimal  `json:"index"`
	Grade  index.Grade `json:"grade"`
}

// GradeName returns the Vietnamese and English names of g under the method named id (the
// default method's when it is not among methods).
func GradeName(methods []index.Method, id string, g index.Grade) (vi, en string) {
	m := index.DefaultMethod()
	for _, x := range methods {
		if x.ID == id {
			m = x
		}
	}
	for _, b := range m.Bands {
		if b.Grade == g {
			return b.VI, b.EN
		}
	}
	return string(g), string(g)
}

// ViewOf shapes an answer for people and scripts.
func ViewOf(a Answer, methods []index.Method) View {
	o := a.Org
	v := View{Org: o.Org, Name: o.Name, At: a.Result.AsOf, Day: Day(a.Result.AsOf), Method: a.Result.Method,
		Index: Figure(o.Tenths), Tenths: o.Tenths, Grade: o.Grade, Rank: o.Rank, Peers: o.Peers,
		Pillars: []PillarView{}, Systems: []SystemView{}, Actions: o.Actions, Caps: o.Caps, Counts: o.Subtree,
		Children: []ChildView{}, Stored: a.Stored, Verified: a.Verified, Mismatch: a.Mismatch, Result: &o}
	v.GradeVI, v.GradeEN = GradeName(methods, a.Result.Method, o.Grade)
	if v.Actions == nil {
		v.Actions = []index.Action{}
	}
	if v.Caps == nil {
		v.Caps = []index.Cap{}
	}
	for _, p := range o.Pillars {
		v.Pillars = append(v.Pillars, PillarView{Pillar: p.Pillar, Points: OneDecimal(float64(index.Tenths(p.Points)) / 10), Reason: p.Reason})
	}
	in := Subtree(a.Result, o.Org)
	for _, s := range a.Result.Systems {
		if in[s.Org] {
			v.Systems = append(v.Systems, SystemView{System: s.System, Name: s.Name, Org: s.Org, Level: s.Level, Stage: string(s.Stage),
				Index: Figure(s.Tenths), Tenths: s.Tenths, Grade: s.Grade, Weight: s.Weight, Counts: s.Counts})
		}
	}
	for _, c := range a.Result.Orgs {
		if c.Parent == o.Org {
			v.Children = append(v.Children, ChildView{Org: c.Org, Name: c.Name, Index: Figure(c.Tenths), Tenths: c.Tenths, Grade: c.Grade, Rank: c.Rank})
		}
	}
	if a.Future != nil {
		f := &FutureView{Method: "", Index: Figure(a.Future.Tenths), Grade: a.Future.Grade}
		if m, ok := index.NextMethod(methods, a.Result.AsOf); ok {
			f.Method, f.From = m.ID, m.EffectiveFrom
		}
		v.Future = f
	}
	return v
}

// Subtree returns the organizations of r under org, org included.
func Subtree(r index.Result, org string) map[string]bool {
	in := map[string]bool{org: true}
	for _, o := range r.Orgs { // parents come first
		if in[o.Parent] {
			in[o.Org] = true
		}
	}
	return in
}
