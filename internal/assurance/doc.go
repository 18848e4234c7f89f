// Package assurance keeps the facts the assurance index and the go-live gate read and runs
// them: attestations with their content-addressed evidence and reviews, incidents, authority
// requests, systems removed from the inventory, daily index snapshots (each with the exact
// index.Input it was computed from, so that any day can be recomputed bit for bit), scheduled
// index methods, the gate policy, exceptions and every gate decision.
//
// It sits between the pure packages (index, gate, control) and the stores: Service builds
// index.Input from the inventory, the assessments and its own Store as they stood at a time,
// computes, snapshots and decides. auth.Assurance scopes it to a principal's subtree.
package assurance
