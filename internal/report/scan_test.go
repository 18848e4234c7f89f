package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

func sample(t *testing.T) Scan {
	t.Helper()
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	r := func(id, res string, st check.Status) check.Result {
		return check.Result{Check: id, Resource: res, Endpoint: strings.TrimPrefix(res, "dns:") + "|127.0.0.1:443", Status: st,
			Reason: check.Text{VI: "lý do " + id, EN: "reason " + id}, Evidence: map[string]any{"seen": id}, At: at}
	}
	return Scan{
		Catalog: cat, Started: at, Finished: at.Add(1500 * time.Millisecond), Targets: 2, Version: "test",
		Results: []check.Result{
			r("tls.protocol.tls10", "dns:legacy.example", check.Fail),
			r("tls.cert.expired", "dns:legacy.example", check.Fail),
			r("tls.protocol.ssl3", "dns:legacy.example", check.Pass),
			r("http.hsts.missing", "dns:ok.example", check.Error),
			r("http.csp.missing", "dns:ok.example", check.NotApplicable),
		},
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Findings []map[string]any `json:"findings"`
		Summary  Summary          `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 5 {
		t.Fatalf("%d findings, want every result", len(out.Findings))
	}
	f := out.Findings[0]
	for _, k := range []string{"check", "resource", "result", "severity", "title", "evidence", "reason", "remediation", "endpoint"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding lacks %q: %v", k, f)
		}
	}
	if f["check"] != "tls.protocol.tls10" || f["result"] != "fail" || f["severity"] != "medium" || f["title"].(map[string]any)["vi"] != "Máy chủ chấp nhận giao thức TLS 1.0" {
		t.Errorf("first finding = %v", f)
	}
	if _, ok := out.Findings[2]["remediation"]; ok {
		t.Error("a passing result carries a remediation")
	}
	s := out.Summary
	if s.ByResult[check.Fail] != 2 || s.ByResult[check.Pass] != 1 || s.FailsBySev[check.Critical] != 1 || s.WorstSeverity != check.Critical || s.DurationSecs != 1.5 {
		t.Errorf("summary = %+v", s)
	}
}

func TestFailOn(t *testing.T) {
	s := sample(t)
	tests := []struct {
		min  check.Severity
		want int
	}{{check.Critical, 1}, {check.High, 1}, {check.Medium, 2}, {check.Info, 2}}
	for _, tt := range tests {
		if got := FailuresAtOrAbove(s, tt.min); got != tt.want {
			t.Errorf("FailuresAtOrAbove(%s) = %d, want %d", tt.min, got, tt.want)
		}
	}
}

func TestSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID         string `json:"id"`
						Help       struct{ Text string }
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID              string `json:"ruleId"`
				RuleIndex           int    `json:"ruleIndex"`
				Level               string `json:"level"`
				Message             struct{ Text string }
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Locations           []struct {
					LogicalLocations []struct{ FullyQualifiedName string } `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
			Invocations []struct {
				Notifications []struct {
					Level string `json:"level"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("header: %s %s %d runs", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Results) != 2 || len(run.Tool.Driver.Rules) != 2 {
		t.Fatalf("%d results, %d rules; want the 2 failures and their rules", len(run.Results), len(run.Tool.Driver.Rules))
	}
	levels := map[string]string{"tls.protocol.tls10": "warning", "tls.cert.expired": "error"}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %d (%s)", r.RuleID, r.RuleIndex, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
		if r.Level != levels[r.RuleID] || len(r.PartialFingerprints["khienFingerprint/v1"]) != 32 || r.Message.Text == "" {
			t.Errorf("result %+v", r)
		}
		if r.Locations[0].LogicalLocations[0].FullyQualifiedName != "dns:legacy.example#legacy.example|127.0.0.1:443" {
			t.Errorf("location %+v", r.Locations)
		}
	}
	for _, rule := range run.Tool.Driver.Rules {
		if rule.Help.Text == "" || rule.Properties["security-severity"] == nil {
			t.Errorf("rule %s lacks help or security-severity", rule.ID)
		}
	}
	if n := len(run.Invocations[0].Notifications); n != 1 {
		t.Errorf("%d notifications, want the one error", n)
	}
}

func TestTable(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		var b bytes.Buffer
		if err := WriteTable(&b, sample(t), lang); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		// Header, two failures worst first, the error, a blank line and the summary.
		if !strings.Contains(lines[1], "tls.cert.expired") || !strings.Contains(lines[2], "tls.protocol.tls10") || !strings.Contains(lines[3], "http.hsts.missing") {
			t.Errorf("%s table order:\n%s", lang, out)
		}
		if strings.Contains(out, "tls.protocol.ssl3") {
			t.Errorf("%s table lists a pass:\n%s", lang, out)
		}
		want := map[string]string{"vi": "2 mục tiêu, 5 kiểm tra: 1 đạt, 2 không đạt, 1 lỗi, 1 không áp dụng trong 1.5 giây", "en": "2 targets, 5 checks: 1 pass, 2 fail, 1 error, 1 not applicable in 1.5 s"}[lang]
		if !strings.Contains(out, want) {
			t.Errorf("%s summary missing %q:\n%s", lang, want, out)
		}
	}
}
