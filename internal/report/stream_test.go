package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// TestWriteJSONStreams holds the streaming WriteJSON to the bytes one json.Encoder with
// two-space indentation writes for the whole report, as it did before it streamed.
func TestWriteJSONStreams(t *testing.T) {
	whole := func(s Scan) []byte {
		out := struct {
			Findings []jsonFinding `json:"findings"`
			Summary  Summary       `json:"summary"`
		}{Findings: []jsonFinding{}, Summary: Summarize(s)}
		for _, r := range s.Results {
			out.Findings = append(out.Findings, newJSONFinding(s.Catalog, r))
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	full := sample(t)
	full.Results = append(full.Results, check.Result{
		Check: "http.mixed_content", Resource: "dns:a.test", Endpoint: "https://a.test/", Status: check.Fail,
		Reason:   check.Text{VI: "Trang tải <script> qua http:// & khác", EN: "loads <script> over http:// & more"},
		Evidence: map[string]any{"nested": map[string]any{"list": []any{1, "x", nil, true}}, "empty": []string{}},
		At:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("ICT", 7*3600)),
	})
	empty := full
	empty.Results = nil
	one := full
	one.Results = full.Results[:1]
	for name, s := range map[string]Scan{"full": full, "empty": empty, "one": one} {
		var got bytes.Buffer
		if err := WriteJSON(&got, s); err != nil {
			t.Fatal(err)
		}
		if want := whole(s); !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: streamed JSON differs from the whole report's encoding:\n%s\nwant:\n%s", name, got.Bytes(), want)
		}
	}
}
