package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAssuranceAPI walks the assurance routes as principals of HN: declaring and reviewing an
// attestation (four eyes), the index, its history, the gate and its record, an exception, an
// incident and the scorecard; every JSON answer is checked against openapi.json.
func TestAssuranceAPI(t *testing.T) {
	tp := newTwoProvinces(t)
	doc := openAPIDoc(t)
	admin, officer := bearer(tp.tokens["hn-admin"]), bearer(tp.tokens["hn-officer"])
	var attID string
	steps := []struct {
		method, route, path, body string
		hdr                       http.Header
		status                    int
		want                      string
	}{
		{"POST", "/api/v1/attestations", "/api/v1/attestations", `{"control":"org.policy.approved","org":"HN","statement":"Quy chế đã ban hành",` +
			`"evidence":[{"name":"quyche.pdf","content_base64":"UXV5IGNo4bq/"}]}`, admin, 201, `"declared_by":"hn-admin"`},
		{"POST", "/api/v1/attestations/{id}/review", "/api/v1/attestations/{att}/review", `{"approved":true}`, admin, 400, "reviewer cannot be the person"},
		{"POST", "/api/v1/attestations/{id}/review", "/api/v1/attestations/{att}/review", `{"approved":true}`, officer, 200, `"approved":true`},
		{"POST", "/api/v1/attestations/{id}/review", "/api/v1/attestations/{att}/review", `{"approved":false,"comment":"x"}`, officer, 409, "reviewed already"},
		{"GET", "/api/v1/attestations", "/api/v1/attestations?org=HN", "", admin, 200, `"total":1`},
		{"GET", "/api/v1/index/{org}", "/api/v1/index/HN", "", admin, 200, `"org":"HN"`},
		{"GET", "/api/v1/index/{org}", "/api/v1/index/HN?at=2026-02-01", "", admin, 404, "no index of HN is stored"},
		{"GET", "/api/v1/index/{org}/history", "/api/v1/index/HN/history", "", admin, 200, `"points":[]`},
		{"POST", "/api/v1/gate", "/api/v1/gate", `{"system":"hn-portal","stage":"operation"}`, admin, 200, `"allowed":false`},
		{"POST", "/api/v1/gate", "/api/v1/gate", `{"system":"hn-portal","stage":"launch"}`, admin, 400, "is not a stage"},
		{"GET", "/api/v1/systems/{id}/gate", "/api/v1/systems/hn-portal/gate", "", admin, 200, `"by":"hn-admin"`},
		{"POST", "/api/v1/gate/exceptions", "/api/v1/gate/exceptions", `{"system":"hn-portal","reasons":["open_high"],"approver":"Chủ tịch UBND",` +
			`"justification":"Đang thay thư viện TLS, có tường lửa ứng dụng","expires":"2026-05-01T00:00:00Z"}`, admin, 201, `"approver":"Chủ tịch UBND"`},
		{"POST", "/api/v1/incidents", "/api/v1/incidents", `{"id":"SC-HN-1","org":"HN.STTTT","personal_data":true,"discovered_at":"2026-02-20T08:00:00Z","notified_at":"2026-02-24T08:00:00Z"}`, admin, 201, `"SC-HN-1"`},
		{"GET", "/api/v1/incidents", "/api/v1/incidents", "", admin, 200, `"total":1`},
	}
	for _, st := range steps {
		path := strings.ReplaceAll(st.path, "{att}", attID)
		rec := send(t, tp.srv, st.method, path, st.body, st.hdr)
		if rec.Code != st.status || !strings.Contains(rec.Body.String(), st.want) {
			t.Fatalf("%s %s = %d %s; want %d with %s", st.method, path, rec.Code, rec.Body, st.status, st.want)
		}
		if attID == "" && st.status == 201 {
			var a struct{ ID string }
			json.Unmarshal(rec.Body.Bytes(), &a)
			attID = a.ID
		}
		op, err := pointer(doc, "#/paths/"+strings.ReplaceAll(st.route, "/", "~1")+"/"+strings.ToLower(st.method))
		if err != nil {
			t.Fatalf("openapi.json has no %s %s", st.method, st.route)
		}
		resp := resolve(t, doc, op["responses"].(map[string]any)[fmt.Sprint(st.status)])
		if resp == nil {
			t.Fatalf("openapi.json does not document %d of %s %s", st.status, st.method, st.route)
		}
		media := resp["content"].(map[string]any)["application/json"].(map[string]any)
		var got any
		json.Unmarshal(rec.Body.Bytes(), &got)
		for _, p := range checkSchema(t, doc, media["schema"], got, "") {
			t.Errorf("%s %s: %s", st.method, path, p)
		}
	}
	// The index figure the API gives is the one the gate's record and the scorecard read.
	rec := send(t, tp.srv, "GET", "/api/v1/reports/scorecard?org=HN&format=pdf", "", admin)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(rec.Body.String(), "%PDF-") {
		t.Errorf("scorecard = %d %s %.40q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	rec = send(t, tp.srv, "GET", "/api/v1/reports/scorecard?org=HN&format=html", "", admin)
	var v struct {
		Tenths int `json:"tenths"`
	}
	json.Unmarshal(send(t, tp.srv, "GET", "/api/v1/index/HN", "", admin).Body.Bytes(), &v)
	fig := fmt.Sprintf("%d,%d", v.Tenths/10, v.Tenths%10)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<div class="figure">`+fig+`</div>`) {
		t.Errorf("HTML scorecard = %d; want the API's figure %s", rec.Code, fig)
	}
	// The leader may read the index but not decide at the gate.
	if rec := send(t, tp.srv, "POST", "/api/v1/gate", `{"system":"hn-portal","stage":"operation"}`, tp.signIn(t, "hn-leader")); rec.Code != 403 {
		t.Errorf("leader's gate request = %d %s; want 403", rec.Code, rec.Body)
	}
}
