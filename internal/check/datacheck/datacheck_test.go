package datacheck

import (
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
)

func finding(id string, distinct int, reportable bool) detect.Finding {
	return detect.Finding{Detector: id, Matches: distinct, Distinct: distinct, Reportable: reportable,
		Samples: []detect.Sample{{Masked: "0010990*****", Hash: "00112233445566778899aabbccddeeff", Line: 1}}}
}

func obs(pages ...Page) Observation {
	return Observation{Start: "https://portal.example/", Robots: "HTTP 404: no rules", MaxDepth: 2, MaxPages: 50, Pages: pages}
}

func scanned(url string, fs ...detect.Finding) Page {
	return Page{URL: url, Status: 200, ContentType: "text/html", Scanned: true, Report: detect.Report{Findings: fs}}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name       string
		o          Observation
		pii, class check.Status
		reason     string // in the English reason of the failing check
	}{
		{"nothing found", obs(scanned("https://portal.example/")), check.Pass, check.Pass, ""},
		{"footer phone on every page",
			obs(scanned("https://portal.example/", finding(detect.Phone, 1, false)),
				scanned("https://portal.example/a", finding(detect.Phone, 1, false))),
			check.Pass, check.Pass, ""},
		{"list of citizen IDs",
			obs(scanned("https://portal.example/"),
				scanned("https://portal.example/ds", finding(detect.CitizenID, 40, true), finding(detect.Phone, 2, false))),
			check.Fail, check.Pass, "citizen ID numbers (up to 40 distinct values on a page)"},
		{"stamp",
			obs(scanned("https://portal.example/bc", finding(detect.MarkTuyet, 1, true))),
			check.Pass, check.Fail, "TUYỆT MẬT (most secret) on 1 public page(s)"},
		{"lone unaccented MAT below the threshold",
			obs(scanned("https://portal.example/x", finding(detect.MarkMat, 1, false))),
			check.Pass, check.Pass, ""},
		{"both",
			obs(scanned("https://portal.example/ds", finding(detect.Phone, 5, true), finding(detect.MarkMat, 1, true))),
			check.Fail, check.Fail, ""},
		{"nothing readable",
			obs(Page{URL: "https://portal.example/", Status: 403}),
			check.NotApplicable, check.NotApplicable, ""},
		{"robots forbids",
			Observation{Start: "https://portal.example/", Robots: "3 rules for khien", Skipped: Skipped{Robots: 1}},
			check.NotApplicable, check.NotApplicable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				eval func(Observation) check.Result
				want check.Status
			}{{piiPublic, tt.pii}, {classifiedPublic, tt.class}} {
				res := c.eval(tt.o)
				if res.Status != c.want {
					t.Errorf("status %s, want %s (%s)", res.Status, c.want, res.Reason.EN)
				}
				if res.Reason.VI == "" || res.Reason.EN == "" || res.Evidence["start"] != tt.o.Start || res.Endpoint != tt.o.Start {
					t.Errorf("result %+v lacks reason, evidence or endpoint", res)
				}
				if res.Status == check.Fail {
					if tt.reason != "" && !strings.Contains(res.Reason.EN, tt.reason) {
						t.Errorf("reason %q, want it to contain %q", res.Reason.EN, tt.reason)
					}
					if _, ok := res.Evidence["pages"].([]pageEvidence); !ok {
						t.Errorf("failing result has no pages in evidence: %+v", res.Evidence)
					}
				}
			}
		})
	}
}

// The evidence of one check holds only its own detectors' findings.
func TestEvaluateKeepsFamiliesApart(t *testing.T) {
	o := obs(scanned("https://portal.example/ds", finding(detect.CitizenID, 5, true), finding(detect.MarkMat, 1, true)))
	for _, c := range []struct {
		eval     func(Observation) check.Result
		markings bool
	}{{piiPublic, false}, {classifiedPublic, true}} {
		pages := c.eval(o).Evidence["pages"].([]pageEvidence)
		for _, f := range pages[0].Findings {
			if (detect.ClassOf(f.Detector) == detect.ClassStateSecret) != c.markings {
				t.Errorf("markings=%v: evidence holds %s", c.markings, f.Detector)
			}
		}
	}
}
