package index

import (
	"testing"
)

// nationalSize is a national-scale subtree: 2,000 organizations four levels deep (central,
// ministries and provinces, departments, communes) and 20,000 systems.
var nationalSize = genSize{orgs: 2000, systems: 20000, maxDepth: 4, incidents: 300}

// BenchmarkCompute computes the index of a national-scale subtree: every organization and system,
// with explanations, pillars and exactly recomputed ranked actions.
func BenchmarkCompute(b *testing.B) {
	in := generate(b, 2026, nationalSize)
	m := DefaultMethod()
	b.Logf("%d organizations, %d systems, %d resources, %d failing findings, %d attestations",
		len(in.Orgs), len(in.Systems), len(in.Resources), len(in.Findings), len(in.Attestations))
	for b.Loop() {
		Compute(in, m, genAsOf)
	}
}

// BenchmarkComputeProvince is one province: 60 organizations, 600 systems.
func BenchmarkComputeProvince(b *testing.B) {
	in := generate(b, 2026, genSize{orgs: 60, systems: 600, maxDepth: 2, incidents: 10})
	m := DefaultMethod()
	for b.Loop() {
		Compute(in, m, genAsOf)
	}
}
