package inventory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/khien-vn/khien/internal/errs"
)

// memStore is an in-memory Store for the package's tests. It keeps the Store contract that
// the tests rely on (NotFound, Conflict, references, all-or-nothing Apply); the real stores
// prove the whole contract in storetest.
type memStore struct {
	mu        sync.Mutex
	orgs      map[string]Organization
	systems   map[string]System
	resources map[string]Resource

	applies  int   // calls of Apply, successful or not
	applyErr error // when set, Apply fails with it after doing its checks
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{orgs: map[string]Organization{}, systems: map[string]System{}, resources: map[string]Resource{}}
}

func notFound(what, key string) error { return errs.E(errs.NotFound, "%s %q not found", what, key) }

func (m *memStore) Org(ctx context.Context, code string) (Organization, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orgs[code]
	if !ok {
		return Organization{}, notFound("organization", code)
	}
	return o, nil
}

// under reports whether code is root or below it.
func under(orgs map[string]Organization, code, root string) bool {
	for i := 0; code != "" && i < len(orgs)+1; i++ {
		if code == root {
			return true
		}
		code = orgs[code].Parent
	}
	return false
}

func page[T any](rows []T, p Page) ([]T, int) {
	p = p.Bounded()
	n := len(rows)
	if p.Offset >= n {
		return nil, n
	}
	return rows[p.Offset:min(n, p.Offset+p.Limit)], n
}

func (m *memStore) Orgs(ctx context.Context, f OrgFilter) ([]Organization, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Organization
	for _, o := range m.orgs {
		if (f.Under == "" || under(m.orgs, o.Code, f.Under)) && (f.Parent == "" || o.Parent == f.Parent) && (f.Level == "" || o.Level == f.Level) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Organization) int { return cmp.Compare(a.Code, b.Code) })
	rows, n := page(out, f.Page)
	return rows, n, nil
}

func (m *memStore) CreateOrg(ctx context.Context, o Organization) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orgs[o.Code]; ok {
		return errs.E(errs.Conflict, "organization %q exists", o.Code)
	}
	return putOrg(m.orgs, o)
}

func putOrg(orgs map[string]Organization, o Organization) error {
	if _, ok := orgs[o.Parent]; o.Parent != "" && !ok {
		return errs.Field("parent", "organization %q does not exist", o.Parent)
	}
	if old, ok := orgs[o.Code]; ok {
		o.Created = old.Created
	}
	orgs[o.Code] = o
	return nil
}

func (m *memStore) UpdateOrg(ctx context.Context, o Organization) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orgs[o.Code]; !ok {
		return notFound("organization", o.Code)
	}
	return putOrg(m.orgs, o)
}

func (m *memStore) DeleteOrg(ctx context.Context, code string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orgs[code]; !ok {
		return notFound("organization", code)
	}
	for _, o := range m.orgs {
		if o.Parent == code {
			return errs.E(errs.Conflict, "organization %q has children", code)
		}
	}
	for _, s := range m.systems {
		if s.Org == code {
			return errs.E(errs.Conflict, "organization %q has systems", code)
		}
	}
	delete(m.orgs, code)
	return nil
}

func (m *memStore) System(ctx context.Context, id string) (System, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.systems[id]
	if !ok {
		return System{}, notFound("system", id)
	}
	s.DataClasses = slices.Clone(s.DataClasses)
	return s, nil
}

func (m *memStore) Systems(ctx context.Context, f SystemFilter) ([]System, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []System
	for _, s := range m.systems {
		if (f.Org == "" || s.Org == f.Org) && (f.Under == "" || under(m.orgs, s.Org, f.Under)) &&
			(f.Stage == "" || s.Stage == f.Stage) && (f.Level == 0 || s.Level == f.Level) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b System) int { return cmp.Compare(a.ID, b.ID) })
	rows, n := page(out, f.Page)
	return rows, n, nil
}

func putSystem(orgs map[string]Organization, systems map[string]System, s System) error {
	if _, ok := orgs[s.Org]; !ok {
		return errs.Field("org", "organization %q does not exist", s.Org)
	}
	if old, ok := systems[s.ID]; ok {
		s.Created = old.Created
	}
	s.DataClasses = slices.Clone(s.DataClasses)
	systems[s.ID] = s
	return nil
}

func (m *memStore) CreateSystem(ctx context.Context, s System) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.systems[s.ID]; ok {
		return errs.E(errs.Conflict, "system %q exists", s.ID)
	}
	return putSystem(m.orgs, m.systems, s)
}

func (m *memStore) UpdateSystem(ctx context.Context, s System) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.systems[s.ID]; !ok {
		return notFound("system", s.ID)
	}
	return putSystem(m.orgs, m.systems, s)
}

func (m *memStore) DeleteSystem(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.systems[id]; !ok {
		return notFound("system", id)
	}
	for _, r := range m.resources {
		if r.System == id {
			return errs.E(errs.Conflict, "system %q has resources", id)
		}
	}
	delete(m.systems, id)
	return nil
}

func (m *memStore) Resource(ctx context.Context, id string) (Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.resources[id]
	if !ok {
		return Resource{}, notFound("resource", id)
	}
	return r, nil
}

func (m *memStore) Resources(ctx context.Context, f ResourceFilter) ([]Resource, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Resource
	for _, r := range m.resources {
		if (f.System == "" || r.System == f.System) && (f.Under == "" || under(m.orgs, m.systems[r.System].Org, f.Under)) &&
			(f.Kind == "" || r.Kind() == f.Kind) && (f.Scope == "" || r.Scope == f.Scope) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Resource) int { return cmp.Compare(a.ID, b.ID) })
	rows, n := page(out, f.Page)
	return rows, n, nil
}

func putResource(systems map[string]System, resources map[string]Resource, r Resource) error {
	if _, ok := systems[r.System]; !ok {
		return errs.Field("system", "system %q does not exist", r.System)
	}
	if old, ok := resources[r.ID]; ok {
		r.Created = old.Created
	}
	resources[r.ID] = r
	return nil
}

func (m *memStore) CreateResource(ctx context.Context, r Resource) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.resources[r.ID]; ok {
		return errs.E(errs.Conflict, "resource %q exists", r.ID)
	}
	return putResource(m.systems, m.resources, r)
}

func (m *memStore) UpdateResource(ctx context.Context, r Resource) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.resources[r.ID]; !ok {
		return notFound("resource", r.ID)
	}
	return putResource(m.systems, m.resources, r)
}

func (m *memStore) DeleteResource(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.resources[id]; !ok {
		return notFound("resource", id)
	}
	delete(m.resources, id)
	return nil
}

// Apply writes inv to copies of the maps and swaps them in only when every row went in.
func (m *memStore) Apply(ctx context.Context, inv Inventory) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applies++
	orgs, systems, resources := maps.Clone(m.orgs), maps.Clone(m.systems), maps.Clone(m.resources)
	for _, o := range inv.Orgs {
		if err := putOrg(orgs, o); err != nil {
			return err
		}
	}
	for _, s := range inv.Systems {
		if err := putSystem(orgs, systems, s); err != nil {
			return err
		}
	}
	for _, r := range inv.Resources {
		if err := putResource(systems, resources, r); err != nil {
			return err
		}
	}
	if m.applyErr != nil {
		return m.applyErr
	}
	m.orgs, m.systems, m.resources = orgs, systems, resources
	return nil
}

// Snapshot returns organizations parents first (by depth, then code), systems and resources by id.
func (m *memStore) Snapshot(ctx context.Context) (Inventory, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	depths := make(map[string]int, len(m.orgs))
	var depth func(code string) int
	depth = func(code string) int {
		if n, ok := depths[code]; ok {
			return n
		}
		n := 0
		if p := m.orgs[code].Parent; p != "" {
			n = depth(p) + 1
		}
		depths[code] = n
		return n
	}
	inv := Inventory{
		Orgs:      slices.Collect(maps.Values(m.orgs)),
		Systems:   slices.Collect(maps.Values(m.systems)),
		Resources: slices.Collect(maps.Values(m.resources)),
	}
	slices.SortFunc(inv.Orgs, func(a, b Organization) int {
		return cmp.Or(cmp.Compare(depth(a.Code), depth(b.Code)), strings.Compare(a.Code, b.Code))
	})
	slices.SortFunc(inv.Systems, func(a, b System) int { return cmp.Compare(a.ID, b.ID) })
	for i := range inv.Systems {
		inv.Systems[i].DataClasses = slices.Clone(inv.Systems[i].DataClasses)
	}
	slices.SortFunc(inv.Resources, func(a, b Resource) int { return cmp.Compare(a.ID, b.ID) })
	return inv, nil
}
