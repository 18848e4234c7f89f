package sqlstore

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/khien-vn/khien/internal/inventory"
)

// The behaviour of the store is tested through storetest by store/sqlite and
// store/postgres; these are the pure helpers.

func TestNumbered(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"WHERE a = ? AND b = ?", "WHERE a = $1 AND b = $2"},
		{"LIMIT ? OFFSET ?", "LIMIT $1 OFFSET $2"},
		{strings.Repeat("?,", 11) + "?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12"},
	}
	for _, tt := range tests {
		if got := numbered(tt.in); got != tt.want {
			t.Errorf("numbered(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("CREATE TABLE t (x int);")}
	tests := []struct {
		name    string
		files   []string
		want    []string
		wantErr string
	}{
		{"in order", []string{"0002_more.sql", "0001_init.sql", "README.md"}, []string{"0001_init.sql", "0002_more.sql"}, ""},
		{"gap", []string{"0001_init.sql", "0003_more.sql"}, nil, "expected version 2"},
		{"repeat", []string{"0001_init.sql", "0001_again.sql"}, nil, "expected version 2"},
		{"not from one", []string{"0002_init.sql"}, nil, "expected version 1"},
		{"bad name", []string{"0001-Init.sql"}, nil, "0001_description.sql"},
		{"none", nil, nil, "no migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys[f] = file
			}
			ms, err := Load(fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load(%q) = %v, want an error containing %q", tt.files, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, m := range ms {
				got = append(got, m.Name)
				if m.Version != i+1 || m.SQL == "" {
					t.Errorf("migration %s: version %d, SQL %q", m.Name, m.Version, m.SQL)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Load(%q) = %q, want %q", tt.files, got, tt.want)
			}
		})
	}
}

func TestParentsFirst(t *testing.T) {
	org := func(code, parent string) inventory.Organization {
		return inventory.Organization{Code: code, Parent: parent}
	}
	tests := []struct {
		name      string
		orgs      []inventory.Organization
		want      []string
		wantCycle []string
	}{
		{"empty", nil, nil, nil},
		{"children first", []inventory.Organization{org("C", "B"), org("B", "A"), org("A", "")}, []string{"A", "B", "C"}, nil},
		{"by depth, then code", []inventory.Organization{org("Z", ""), org("A.1", "A"), org("A", ""), org("Z.1", "Z"), org("A.1.x", "A.1")},
			[]string{"A", "Z", "A.1", "Z.1", "A.1.x"}, nil},
		{"parent outside the set is a root", []inventory.Organization{org("B.1", "B"), org("A", "")}, []string{"A", "B.1"}, nil},
		{"own parent", []inventory.Organization{org("A", "A"), org("B", "")}, []string{"B", "A"}, []string{"A"}},
		{"cycle and what hangs from it", []inventory.Organization{org("X", "Y"), org("Y", "X"), org("Z", "X"), org("R", "")},
			[]string{"R", "X", "Y", "Z"}, []string{"X", "Y", "Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sorted, cycle := parentsFirst(tt.orgs)
			var got []string
			for _, o := range sorted {
				got = append(got, o.Code)
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(cycle, tt.wantCycle) {
				t.Errorf("parentsFirst = %q, cycle %q; want %q, cycle %q", got, cycle, tt.want, tt.wantCycle)
			}
		})
	}
}

func TestStillHas(t *testing.T) {
	tests := []struct {
		counts []count
		want   string
	}{
		{[]count{{3, "child organization", "child organizations"}, {2, "system", "systems"}},
			`X still has 3 child organizations and 2 systems; move or delete them first`},
		{[]count{{0, "child organization", "child organizations"}, {1, "system", "systems"}},
			`X still has 1 system; move or delete it first`},
		{[]count{{1, "child organization", "child organizations"}, {0, "system", "systems"}},
			`X still has 1 child organization; move or delete it first`},
	}
	for _, tt := range tests {
		if got := stillHas("X", tt.counts...); got != tt.want {
			t.Errorf("stillHas(%v) = %q, want %q", tt.counts, got, tt.want)
		}
	}
}
