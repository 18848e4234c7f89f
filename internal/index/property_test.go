package index

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
)

// The properties the index must keep, over hundreds of generated inventories. Seeds are fixed,
// so a failure names the seed that reproduces it.

// seeds is how many inventories each property is checked on: 300, or 60 with -short.
func seeds() uint64 {
	if testing.Short() {
		return 60
	}
	return 300
}

func smallSize(seed uint64) genSize {
	return genSize{orgs: 3 + int(seed%9), systems: 4 + int(seed*7%29), maxDepth: 1 + int(seed%4), incidents: int(seed % 4)}
}

// methods varies the method over the seeds: the default, and one whose caps reach the whole
// subtree, so that the properties hold whatever an administrator chooses.
func methodFor(seed uint64) Method {
	m := DefaultMethod()
	if seed%3 == 0 {
		m.ID, m.Caps.Reach = "subtree-caps", ReachSubtree
	}
	return m
}

func jsonOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPropertyFixNeverLowers: fixing a failing finding never lowers any organization's index or
// any system's score.
func TestPropertyFixNeverLowers(t *testing.T) {
	t.Parallel()
	checked := 0
	for seed := uint64(1); seed <= seeds(); seed++ {
		in := generate(t, seed, smallSize(seed))
		m := methodFor(seed)
		before := Compute(in, m, genAsOf)
		rng := rand.New(rand.NewPCG(seed, 1))
		for range min(4, len(in.Findings)) {
			f := in.Findings[rng.IntN(len(in.Findings))]
			after := Compute(withFix(in, f.Fingerprint), m, genAsOf)
			for i, o := range before.Orgs {
				if after.Orgs[i].Index < o.Index {
					t.Fatalf("seed %d: fixing %s lowered %s from %v to %v", seed, f.Fingerprint, o.Org, o.Index, after.Orgs[i].Index)
				}
			}
			for i, s := range before.Systems {
				if after.Systems[i].Index < s.Index {
					t.Fatalf("seed %d: fixing %s lowered system %s from %v to %v", seed, f.Fingerprint, s.System, s.Index, after.Systems[i].Index)
				}
			}
			checked++
		}
	}
	if checked < int(seeds()) {
		t.Fatalf("only %d fixes checked", checked)
	}
}

// TestPropertyUnassessedSystemNeverRaises: registering a system that was never assessed, at any
// level and stage, with any attestations, never raises any index.
func TestPropertyUnassessedSystemNeverRaises(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= seeds(); seed++ {
		in := generate(t, seed, smallSize(seed))
		m := methodFor(seed)
		before := Compute(in, m, genAsOf)
		g := &generator{rng: rand.New(rand.NewPCG(seed, 2)), controls: in.Controls, nAtt: 1 << 20}
		added := in
		added.Systems = slices.Clone(in.Systems)
		added.Resources = slices.Clone(in.Resources)
		added.Attestations = slices.Clone(in.Attestations)
		s := g.system("zz-new", in.Orgs[g.pick(len(in.Orgs))].Code)
		added.Systems = append(added.Systems, s)
		g.resources(&added, s, true)
		g.attest(&added, s)
		after := Compute(added, m, genAsOf)
		for i, o := range before.Orgs {
			if after.Orgs[i].Index > o.Index {
				t.Fatalf("seed %d: adding never-assessed %s (level %d, %s, under %s) raised %s from %v to %v",
					seed, s.ID, s.Level, s.Stage, s.Org, o.Org, o.Index, after.Orgs[i].Index)
			}
		}
		if ns, _ := after.System("zz-new"); ns.Index != 0 || !ns.NeverAssessed {
			t.Fatalf("seed %d: a never-assessed system scores %v", seed, ns.Index)
		}
	}
}

// TestPropertyRemovalVisible: removing a system is recorded, and shows in the explanation of its
// organization and of every organization above it.
func TestPropertyRemovalVisible(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= seeds(); seed++ {
		in := generate(t, seed, smallSize(seed))
		rng := rand.New(rand.NewPCG(seed, 3))
		gone := in.Systems[rng.IntN(len(in.Systems))]
		out := in
		out.Systems = slices.DeleteFunc(slices.Clone(in.Systems), func(s System) bool { return s.ID == gone.ID })
		out.Resources = slices.DeleteFunc(slices.Clone(in.Resources), func(r Resource) bool { return r.System == gone.ID })
		out.Attestations = slices.DeleteFunc(slices.Clone(in.Attestations), func(a control.Attestation) bool { return a.System == gone.ID })
		goneRes := map[string]bool{}
		for _, r := range in.Resources {
			goneRes[r.ID] = r.System == gone.ID
		}
		out.Findings = slices.DeleteFunc(slices.Clone(in.Findings), func(f Finding) bool { return goneRes[f.Resource] })
		out.Incidents = slices.DeleteFunc(slices.Clone(in.Incidents), func(i Incident) bool { return i.System == gone.ID })
		out.Removed = append(out.Removed, RemovedSystem{ID: gone.ID, Org: gone.Org, Name: gone.Name, Level: gone.Level, Stage: gone.Stage,
			RemovedAt: genAsOf.Add(-time.Duration(rng.IntN(300)) * 24 * time.Hour), By: "quản trị viên", Reason: "thử"})
		r := Compute(out, methodFor(seed), genAsOf)
		parent := map[string]string{}
		for _, o := range in.Orgs {
			parent[o.Code] = o.Parent
		}
		for code := gone.Org; code != ""; code = parent[code] {
			o, ok := r.Org(code)
			if !ok {
				t.Fatalf("seed %d: no result for %s", seed, code)
			}
			listed := slices.ContainsFunc(o.Removed, func(rs RemovedSystem) bool { return rs.ID == gone.ID })
			explained := slices.ContainsFunc(o.Explanation, func(x check.Text) bool {
				return strings.Contains(x.VI, gone.ID) && strings.Contains(x.EN, gone.ID)
			})
			if !listed || !explained {
				t.Fatalf("seed %d: removal of %s not visible at %s (listed %v, explained %v)", seed, gone.ID, code, listed, explained)
			}
		}
		if len(r.Warnings) != 0 {
			t.Fatalf("seed %d: warnings %v", seed, r.Warnings)
		}
	}
}

// TestPropertyDeterministic: the same inputs give the same output bit for bit, whatever the
// order of the input slices, after a JSON round trip of the inputs (as a store keeps them), and
// whatever the time zone of asOf.
func TestPropertyDeterministic(t *testing.T) {
	t.Parallel()
	hcm := time.FixedZone("ICT", 7*3600)
	for seed := uint64(1); seed <= seeds(); seed++ {
		in := generate(t, seed, smallSize(seed))
		m := methodFor(seed)
		want := jsonOf(t, Compute(in, m, genAsOf))
		if got := jsonOf(t, Compute(in, m, genAsOf)); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		shuffled := shuffle(in, rand.New(rand.NewPCG(seed, 4)))
		if got := jsonOf(t, Compute(shuffled, m, genAsOf.In(hcm))); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: shuffled input or another time zone gives another result", seed)
		}
		var back Input
		if err := json.Unmarshal(jsonOf(t, in), &back); err != nil {
			t.Fatal(err)
		}
		var mBack Method
		if err := json.Unmarshal(jsonOf(t, m), &mBack); err != nil {
			t.Fatal(err)
		}
		if got := jsonOf(t, Compute(back, mBack, genAsOf)); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: inputs and method read back from JSON give another result", seed)
		}
		var res Result
		if err := json.Unmarshal(want, &res); err != nil {
			t.Fatal(err)
		}
		if got := jsonOf(t, res); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: a stored result does not survive a JSON round trip", seed)
		}
		// A history's snapshots of the day match the recomputation exactly.
		again := Compute(back, mBack, genAsOf)
		if !slices.Equal(res.Snapshots(), again.Snapshots()) {
			t.Fatalf("seed %d: stored snapshots differ from a recomputation", seed)
		}
	}
}

func shuffle(in Input, rng *rand.Rand) Input {
	out := in
	sh := func(n int, swap func(i, j int)) { rng.Shuffle(n, swap) }
	out.Orgs = slices.Clone(in.Orgs)
	sh(len(out.Orgs), func(i, j int) { out.Orgs[i], out.Orgs[j] = out.Orgs[j], out.Orgs[i] })
	out.Systems = slices.Clone(in.Systems)
	sh(len(out.Systems), func(i, j int) { out.Systems[i], out.Systems[j] = out.Systems[j], out.Systems[i] })
	out.Resources = slices.Clone(in.Resources)
	sh(len(out.Resources), func(i, j int) { out.Resources[i], out.Resources[j] = out.Resources[j], out.Resources[i] })
	out.Findings = slices.Clone(in.Findings)
	sh(len(out.Findings), func(i, j int) { out.Findings[i], out.Findings[j] = out.Findings[j], out.Findings[i] })
	out.Attestations = slices.Clone(in.Attestations)
	sh(len(out.Attestations), func(i, j int) { out.Attestations[i], out.Attestations[j] = out.Attestations[j], out.Attestations[i] })
	out.Incidents = slices.Clone(in.Incidents)
	sh(len(out.Incidents), func(i, j int) { out.Incidents[i], out.Incidents[j] = out.Incidents[j], out.Incidents[i] })
	out.Requests = slices.Clone(in.Requests)
	sh(len(out.Requests), func(i, j int) { out.Requests[i], out.Requests[j] = out.Requests[j], out.Requests[i] })
	return out
}

// TestActionsExact: every ranked action's figures are what Compute gives on the inputs with the
// change applied, bit for bit.
func TestActionsExact(t *testing.T) {
	t.Parallel()
	checked := 0
	for seed := uint64(1); seed <= seeds()*4/15; seed++ { // 80, or 16 with -short
		in := generate(t, seed, smallSize(seed))
		m := methodFor(seed)
		base := Compute(in, m, genAsOf)
		for _, o := range base.Orgs {
			for k, a := range o.Actions {
				if k >= 2 {
					break // the best two of each organization
				}
				after := Compute(withAction(in, a, genAsOf), m, genAsOf)
				got, _ := after.Org(o.Org)
				if got.Index != a.After || a.Before != o.Index || a.Delta != a.After-a.Before || a.Delta <= 0 {
					t.Fatalf("seed %d: %s action %s %s%s: stated %v → %v, Compute gives %v → %v",
						seed, o.Org, a.Kind, a.Finding, a.Control, a.Before, a.After, o.Index, got.Index)
				}
				checked++
			}
		}
		for _, s := range base.Systems {
			for k, a := range s.Actions {
				if k >= 1 {
					break
				}
				after := Compute(withAction(in, a, genAsOf), m, genAsOf)
				got, _ := after.System(s.System)
				if got.Index != a.After || a.Before != s.Index {
					t.Fatalf("seed %d: system %s action %s: stated %v → %v, Compute gives %v → %v", seed, s.System, a.Kind, a.Before, a.After, s.Index, got.Index)
				}
				checked++
			}
		}
	}
	if checked < int(seeds()) {
		t.Fatalf("only %d actions checked", checked)
	}
	t.Logf("%d actions checked against a full recomputation", checked)
}

// TestActionsAreTheBest: no single fix outside the list would raise an organization's index more
// than the last action listed (a fix with the same effect as a listed one is the same action).
func TestActionsAreTheBest(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= seeds()/20; seed++ { // 15, or 3 with -short
		in := generate(t, seed, smallSize(seed))
		m := methodFor(seed)
		base := Compute(in, m, genAsOf)
		for _, f := range in.Findings {
			after := Compute(withFix(in, f.Fingerprint), m, genAsOf)
			for i, o := range base.Orgs {
				if len(o.Actions) < m.Actions {
					continue
				}
				d := after.Orgs[i].Index - o.Index
				floor := o.Actions[len(o.Actions)-1].Delta
				listed := slices.ContainsFunc(o.Actions, func(a Action) bool {
					return a.Kind == ActionFixFinding && a.Resource == f.Resource && a.Delta == d
				})
				if d > floor+1e-9 && !listed {
					t.Fatalf("seed %d: fixing %s raises %s by %v, more than the last listed action (%v)", seed, f.Fingerprint, o.Org, d, floor)
				}
			}
		}
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a := jsonOf(t, generate(t, 42, smallSize(42)))
	b := jsonOf(t, generate(t, 42, smallSize(42)))
	if !bytes.Equal(a, b) {
		t.Fatal("the generator is not deterministic")
	}
	in := generate(t, 7, genSize{orgs: 20, systems: 100, maxDepth: 3, incidents: 5})
	r := Compute(in, DefaultMethod(), genAsOf)
	var never, stale, capped, accepted int
	for _, s := range r.Systems {
		if s.NeverAssessed {
			never++
		}
		if s.Counts.StaleResources > 0 {
			stale++
		}
		if len(s.Caps) > 0 {
			capped++
		}
		accepted += s.Counts.AcceptedRisks
	}
	if never == 0 || stale == 0 || capped == 0 || accepted == 0 {
		t.Errorf("generated inventories should exercise every rule: never %d, stale %d, capped %d, accepted %d", never, stale, capped, accepted)
	}
}
