package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPolicyCommands schedules a stricter index method and a laxer gate policy on the demo
// store: the index shows the future figure under the new method, and the gate answers under
// the new policy.
func TestPolicyCommands(t *testing.T) {
	db, _ := demoStore(t)
	dir := filepath.Dir(db)

	// A method that weighs controls more, effective in a month.
	base, err := os.ReadFile("../index/methods/khien-2026.1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().UTC().AddDate(0, 1, 0).Format("2006-01-02") + "T00:00:00Z"
	m := strings.Replace(string(base), "id: khien-2026.1", "id: khien-2027.1", 1)
	m = strings.Replace(m, "effective_from: 2026-08-19T00:00:00Z", "effective_from: "+from, 1)
	m = strings.Replace(m, "system: {technical: 0.6, controls: 0.4}", "system: {technical: 0.4, controls: 0.6}", 1)
	mf := filepath.Join(dir, "method.yaml")
	os.WriteFile(mf, []byte(m), 0o644)
	code, out, errOut := run(t, nil, "--db", db, "policy", "method", mf)
	if code != ExitOK || !strings.Contains(out, "scheduled method khien-2027.1") {
		t.Fatalf("policy method = %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, nil, "--db", db, "index", "--org", "SH")
	if code != ExitOK || !strings.Contains(out, "under the next method") || !strings.Contains(out, "khien-2027.1") {
		t.Errorf("index after scheduling = %d\n%s\n%s", code, out, errOut)
	}
	// A broken method is refused with the reason, and nothing changes.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("id: x\nseverity_weights: [1]\n"), 0o644)
	if code, _, errOut := run(t, nil, "--db", db, "policy", "method", bad); code != ExitUsage || !strings.Contains(errOut, "bad.yaml") {
		t.Errorf("bad method = %d %s", code, errOut)
	}

	// A gate policy that lets level-4 systems with open findings through (a drill, say).
	p, err := os.ReadFile("../gate/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lax := strings.Replace(string(p), "id: khien-gate-2026.1", "id: khien-gate-drill", 1)
	lax = strings.ReplaceAll(lax, "block_open_critical: true", "block_open_critical: false")
	lax = strings.ReplaceAll(lax, "block_open_high: true", "block_open_high: false")
	pf := filepath.Join(dir, "gate.yaml")
	os.WriteFile(pf, []byte(lax), 0o644)
	if code, out, errOut := run(t, nil, "--db", db, "policy", "gate", pf); code != ExitOK || !strings.Contains(out, "gate policy khien-gate-drill") {
		t.Fatalf("policy gate = %d\n%s\n%s", code, out, errOut)
	}
	_, out, _ = run(t, nil, "--db", db, "gate", "--system", "sh-hsba", "--stage", "operation", "--format", "json")
	var d map[string]any
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "khien-gate-drill") || strings.Contains(out, `"open_critical"`) && strings.Contains(out, `"code": "open_critical"`) {
		t.Errorf("gate under the drill policy still blocks on open findings or names another policy:\n%s", out)
	}
	if code, _, errOut := run(t, nil, "--db", db, "policy", "launch", pf); code != ExitUsage || !strings.Contains(errOut, "use: khien policy") {
		t.Errorf("unknown subcommand = %d %s", code, errOut)
	}
}
