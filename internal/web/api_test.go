package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/inventory"
)

func TestOrganizationAPI(t *testing.T) {
	const dn = `{"code":"DN","name":"Thành phố Đà Nẵng","level":"province","head":{"name":"Trần B","title":"Chủ tịch","contact":"ubnd@danang.gov.vn"}}`
	runAPICases(t, []apiCase{
		{"list", "GET", "/api/v1/organizations", "", 200,
			[]string{`"total":2`, `"limit":50`, `"offset":0`, `"code":"HN"`, `"code":"HN.STTTT"`, `"parent":"HN"`, `"created":"2026-03-01T08:00:00Z"`}, nil},
		{"list under", "GET", "/api/v1/organizations?under=HN.STTTT", "", 200, []string{`"total":1`, `"code":"HN.STTTT"`}, nil},
		{"list parent", "GET", "/api/v1/organizations?parent=HN", "", 200, []string{`"total":1`, `"code":"HN.STTTT"`}, nil},
		{"list level", "GET", "/api/v1/organizations?level=province", "", 200, []string{`"total":1`, `"code":"HN"`}, []string{`HN.STTTT`}},
		{"list none", "GET", "/api/v1/organizations?level=commune", "", 200, []string{`"items":[]`, `"total":0`}, nil},
		{"list page", "GET", "/api/v1/organizations?limit=1&offset=1", "", 200,
			[]string{`"total":2`, `"limit":1`, `"offset":1`, `"code":"HN.STTTT"`}, []string{`"code":"HN"`}},
		{"list limit capped", "GET", "/api/v1/organizations?limit=5000", "", 200, []string{`"limit":1000`}, nil},
		{"list bad level", "GET", "/api/v1/organizations?level=planet", "", 400, []string{`"code":"invalid"`, `"field":"level"`, `province`}, nil},
		{"list bad limit", "GET", "/api/v1/organizations?limit=abc", "", 400, []string{`"field":"limit"`, `at least 0, got \"abc\"`}, nil},
		{"list negative offset", "GET", "/api/v1/organizations?offset=-1", "", 400, []string{`"field":"offset"`}, nil},
		{"list unknown parameter", "GET", "/api/v1/organizations?levle=province", "", 400, []string{`"field":"levle"`, `unknown query parameter`}, nil},
		{"list repeated parameter", "GET", "/api/v1/organizations?limit=1&limit=2", "", 400, []string{`"field":"limit"`, `given 2 times`}, nil},
		{"list bad query escape", "GET", "/api/v1/organizations?under=%zz", "", 400, []string{`malformed query string`}, nil},

		{"create", "POST", "/api/v1/organizations", dn, 201,
			[]string{`"code":"DN"`, `"level":"province"`, `"parent":""`, `"head":{"name":"Trần B","title":"Chủ tịch","contact":"ubnd@danang.gov.vn"}`, `"updated":"2026-03-01T08:00:00Z"`}, nil},
		{"create child", "POST", "/api/v1/organizations", `{"code":"HN.SYT","name":"Sở Y tế","level":"department","parent":"HN"}`, 201, []string{`"parent":"HN"`}, nil},
		{"create existing", "POST", "/api/v1/organizations", `{"code":"HN","name":"Hà Nội","level":"province"}`, 409,
			[]string{`"code":"conflict"`, `already exists`}, nil},
		{"create bad level", "POST", "/api/v1/organizations", `{"code":"DN","name":"Đà Nẵng","level":"planet"}`, 400,
			[]string{`"code":"invalid"`, `"field":"level"`, `level: \"planet\" is not one of`}, nil},
		{"create many problems", "POST", "/api/v1/organizations", `{"code":"D N"}`, 400,
			[]string{`"field":"code"`, `code: \"D N\" may hold only`, `; name: is required; level:`}, nil},
		{"create missing parent", "POST", "/api/v1/organizations", `{"code":"DN.SYT","name":"Sở Y tế","level":"department","parent":"DN"}`, 400,
			[]string{`"field":"parent"`, `\"DN\" does not exist`}, nil},
		{"create unknown field", "POST", "/api/v1/organizations", `{"code":"DN","nme":"typo"}`, 400,
			[]string{`"code":"invalid"`, `invalid JSON: unknown field \"nme\"`, `"field":"nme"`}, nil},
		{"create unknown nested field", "POST", "/api/v1/organizations", `{"code":"DN","head":{"phone":"1"}}`, 400,
			[]string{`unknown field \"phone\"`}, nil},
		{"create syntax error", "POST", "/api/v1/organizations", `{"code":"DN","name":}`, 400,
			[]string{`invalid JSON at offset 21: invalid character '}'`}, nil},
		{"create wrong type", "POST", "/api/v1/organizations", `{"code":"DN","name":17}`, 400,
			[]string{`"field":"name"`, `\"name\" must be a string, not a number`}, nil},
		{"create wrong nested type", "POST", "/api/v1/organizations", `{"code":"DN","head":{"name":true}}`, 400,
			[]string{`"field":"head.name"`}, nil},
		{"create bad time", "POST", "/api/v1/organizations", `{"code":"DN","created":"yesterday"}`, 400, []string{`invalid JSON`}, nil},
		{"create array", "POST", "/api/v1/organizations", `[{"code":"DN"}]`, 400, []string{`the body must be a JSON object, not an array`}, nil},
		{"create trailing data", "POST", "/api/v1/organizations", dn + `{}`, 400, []string{`unexpected data after the object`}, nil},
		{"create truncated", "POST", "/api/v1/organizations", `{"code":"DN"`, 400, []string{`ends before the object does`}, nil},
		{"create empty body", "POST", "/api/v1/organizations", "", 400, []string{`request body is empty`}, nil},
		{"create too large", "POST", "/api/v1/organizations", `{"code":"DN","name":"` + strings.Repeat("x", maxBody) + `"}`, 413,
			[]string{`"code":"too_large"`, `1048576 bytes`}, nil},

		{"get", "GET", "/api/v1/organizations/HN", "", 200, []string{`"code":"HN"`, `"name":"Thành phố Hà Nội"`, `"contact":"ubnd@hanoi.gov.vn"`}, nil},
		{"get missing", "GET", "/api/v1/organizations/XX", "", 404, []string{`"code":"not_found"`, `organization \"XX\" not found`}, nil},

		{"put", "PUT", "/api/v1/organizations/HN.STTTT", `{"name":"Sở Khoa học và Công nghệ","level":"department","parent":"HN"}`, 200,
			[]string{`"code":"HN.STTTT"`, `"name":"Sở Khoa học và Công nghệ"`}, nil},
		{"put same code in body", "PUT", "/api/v1/organizations/HN", `{"code":"HN","name":"Hà Nội","level":"province"}`, 200, []string{`"name":"Hà Nội"`}, nil},
		{"put code mismatch", "PUT", "/api/v1/organizations/HN", `{"code":"HCM","name":"Hà Nội","level":"province"}`, 400,
			[]string{`"field":"code"`, `does not match`}, nil},
		{"put cycle", "PUT", "/api/v1/organizations/HN", `{"name":"Hà Nội","level":"province","parent":"HN.STTTT"}`, 400,
			[]string{`"field":"parent"`, `cycle`}, nil},
		{"put missing", "PUT", "/api/v1/organizations/XX", `{"name":"X","level":"province"}`, 404, []string{`"code":"not_found"`}, nil},
		{"put bad level", "PUT", "/api/v1/organizations/HN", `{"name":"Hà Nội","level":"town"}`, 400, []string{`"field":"level"`}, nil},

		{"delete with systems", "DELETE", "/api/v1/organizations/HN.STTTT", "", 409, []string{`"code":"conflict"`, `system`}, nil},
		{"delete with child", "DELETE", "/api/v1/organizations/HN", "", 409, []string{`"code":"conflict"`, `HN`}, nil},
		{"delete missing", "DELETE", "/api/v1/organizations/XX", "", 404, []string{`"code":"not_found"`}, nil},
		{"wrong method", "PATCH", "/api/v1/organizations/HN", `{}`, 405, []string{`"code":"method_not_allowed"`, `PATCH`}, nil},
	}, nil, nil)
}

func TestOrganizationDelete(t *testing.T) {
	srv, inv := newTestServer(t, nil)
	if _, err := inv.CreateOrg(t.Context(), inventory.Organization{Code: "HN.SYT", Name: "Sở Y tế", Level: inventory.LevelDepartment, Parent: "HN"}); err != nil {
		t.Fatal(err)
	}
	rec := do(t, srv, "DELETE", "/api/v1/organizations/HN.SYT", "")
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
		t.Errorf("DELETE = %d %q (Content-Type %q); want 204, no body, no content type", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
	}
	if rec := do(t, srv, "GET", "/api/v1/organizations/HN.SYT", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET after DELETE = %d %s; want 404", rec.Code, rec.Body)
	}
}

func TestCreateLocation(t *testing.T) {
	tests := []struct {
		name, path, body, wantLocation string
	}{
		{"organization", "/api/v1/organizations", `{"code":"DN","name":"Đà Nẵng","level":"province"}`, "/api/v1/organizations/DN"},
		{"system", "/api/v1/systems", `{"id":"dn-portal","org":"HN","name":"Cổng","level":2,"stage":"design"}`, "/api/v1/systems/dn-portal"},
		{"resource", "/api/v1/resources", `{"id":"url:HTTPS://Y.vn:443/a","system":"hn-mail"}`, "/api/v1/resources/url:https:%2F%2Fy.vn%2Fa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newTestServer(t, nil)
			rec := do(t, srv, "POST", tt.path, tt.body)
			if got := rec.Header().Get("Location"); rec.Code != http.StatusCreated || got != tt.wantLocation {
				t.Fatalf("POST %s = %d, Location %q; want 201, %q", tt.path, rec.Code, got, tt.wantLocation)
			}
			if rec := do(t, srv, "GET", tt.wantLocation, ""); rec.Code != http.StatusOK {
				t.Errorf("GET Location %s = %d %s; want 200", tt.wantLocation, rec.Code, rec.Body)
			}
		})
	}
}

func TestSystemAPI(t *testing.T) {
	const portal = `{"org":"HN.STTTT","name":"Cổng dịch vụ công","purpose":"thủ tục trực tuyến","level":4,"level_approved":true,"stage":"operation","data_classes":["sensitive_personal","personal","personal"],"operator":"VNPT"}`
	runAPICases(t, []apiCase{
		{"list", "GET", "/api/v1/systems", "", 200, []string{`"total":2`, `"id":"hn-mail"`, `"id":"hn-portal"`, `"data_classes":[]`, `"data_classes":["personal"]`}, nil},
		{"list org", "GET", "/api/v1/systems?org=HN.STTTT", "", 200, []string{`"total":2`}, nil},
		{"list org direct only", "GET", "/api/v1/systems?org=HN", "", 200, []string{`"total":0`, `"items":[]`}, nil},
		{"list under", "GET", "/api/v1/systems?under=HN", "", 200, []string{`"total":2`}, nil},
		{"list stage", "GET", "/api/v1/systems?stage=build", "", 200, []string{`"total":1`, `"id":"hn-mail"`}, nil},
		{"list level", "GET", "/api/v1/systems?level=3", "", 200, []string{`"total":1`, `"id":"hn-portal"`}, nil},
		{"list bad level", "GET", "/api/v1/systems?level=9", "", 400, []string{`"field":"level"`, `from 1 to 5`}, nil},
		{"list bad stage", "GET", "/api/v1/systems?stage=done", "", 400, []string{`"field":"stage"`, `planning`}, nil},
		{"list bad offset", "GET", "/api/v1/systems?offset=x", "", 400, []string{`"field":"offset"`}, nil},

		{"create", "POST", "/api/v1/systems", `{"id":"hn-dvc",` + portal[1:], 201,
			[]string{`"id":"hn-dvc"`, `"level":4`, `"level_approved":true`, `"data_classes":["personal","sensitive_personal"]`, `"operator":"VNPT"`}, nil},
		{"create generated id", "POST", "/api/v1/systems", portal, 201, []string{`"id":"sys-`}, nil},
		{"create existing", "POST", "/api/v1/systems", `{"id":"hn-mail",` + portal[1:], 409, []string{`"code":"conflict"`, `already exists`}, nil},
		{"create bad level", "POST", "/api/v1/systems", `{"org":"HN","name":"Portal","level":9,"stage":"build"}`, 400,
			[]string{`"field":"level"`, `security level must be 1 to 5, got 9`}, nil},
		{"create bad data class", "POST", "/api/v1/systems", `{"org":"HN","name":"Portal","level":1,"stage":"build","data_classes":["secret"]}`, 400,
			[]string{`"field":"data_classes"`}, nil},
		{"create missing org", "POST", "/api/v1/systems", `{"org":"XX","name":"Portal","level":1,"stage":"build"}`, 400,
			[]string{`"field":"org"`, `\"XX\" does not exist`}, nil},
		{"create unknown field", "POST", "/api/v1/systems", `{"nme":"typo"}`, 400, []string{"invalid JSON", `"field":"nme"`}, nil},
		{"create level as string", "POST", "/api/v1/systems", `{"level":"3"}`, 400, []string{`"field":"level"`, `must be an integer, not a string`}, nil},

		{"get", "GET", "/api/v1/systems/hn-portal", "", 200, []string{`"id":"hn-portal"`, `"org":"HN.STTTT"`, `"stage":"operation"`}, nil},
		{"get missing", "GET", "/api/v1/systems/s9", "", 404, []string{`"message":"system \"s9\" not found"`}, nil},

		{"put", "PUT", "/api/v1/systems/hn-portal", portal, 200, []string{`"id":"hn-portal"`, `"level":4`}, nil},
		{"put id mismatch", "PUT", "/api/v1/systems/hn-portal", `{"id":"other",` + portal[1:], 400, []string{`"field":"id"`, `does not match`}, nil},
		{"put missing", "PUT", "/api/v1/systems/s9", portal, 404, []string{`"code":"not_found"`}, nil},
		{"put bad level", "PUT", "/api/v1/systems/hn-portal", `{"org":"HN.STTTT","name":"Portal","level":0,"stage":"build"}`, 400, []string{`"field":"level"`}, nil},
		{"put missing org", "PUT", "/api/v1/systems/hn-portal", `{"org":"XX","name":"Portal","level":1,"stage":"build"}`, 400, []string{`"field":"org"`}, nil},

		{"delete", "DELETE", "/api/v1/systems/hn-mail", "", 204, nil, nil},
		{"delete with resources", "DELETE", "/api/v1/systems/hn-portal", "", 409, []string{`"code":"conflict"`, `resource`}, nil},
		{"delete missing", "DELETE", "/api/v1/systems/s9", "", 404, []string{`"code":"not_found"`}, nil},
		{"wrong method", "POST", "/api/v1/systems/hn-portal", `{}`, 405, []string{`"code":"method_not_allowed"`}, nil},
	}, nil, nil)
}

func TestResourceAPI(t *testing.T) {
	runAPICases(t, []apiCase{
		{"list", "GET", "/api/v1/resources", "", 200,
			[]string{`"total":2`, `"id":"dns:x.vn"`, `"kind":"dns"`, `"id":"url:https://x.vn/"`, `"scope":"assigned"`, `"scope_reason":"ticket 42, approved by the CISO"`},
			[]string{`verified_at`, `token`}},
		{"list kind", "GET", "/api/v1/resources?kind=url", "", 200, []string{`"total":1`, `"kind":"url"`}, nil},
		{"list scope", "GET", "/api/v1/resources?scope=unverified", "", 200, []string{`"total":1`, `"id":"dns:x.vn"`}, nil},
		{"list system", "GET", "/api/v1/resources?system=hn-mail", "", 200, []string{`"total":0`}, nil},
		{"list under", "GET", "/api/v1/resources?under=HN", "", 200, []string{`"total":2`}, nil},
		{"list bad kind", "GET", "/api/v1/resources?kind=ftp", "", 400, []string{`"field":"kind"`}, nil},
		{"list bad scope", "GET", "/api/v1/resources?scope=maybe", "", 400, []string{`"field":"scope"`}, nil},
		{"list bad limit", "GET", "/api/v1/resources?limit=1.5", "", 400, []string{`"field":"limit"`}, nil},

		{"get dns", "GET", "/api/v1/resources/dns:x.vn", "", 200, []string{`"id":"dns:x.vn"`, `"system":"hn-portal"`}, nil},
		{"get dns not normalized", "GET", "/api/v1/resources/dns:X.VN.", "", 200, []string{`"id":"dns:x.vn"`}, nil},
		{"get escaped url", "GET", "/api/v1/resources/url:https:%2F%2Fx.vn%2F", "", 200, []string{`"id":"url:https://x.vn/"`, `"kind":"url"`}, nil},
		{"get fully escaped url", "GET", "/api/v1/resources/url%3Ahttps%3A%2F%2Fx.vn%2F", "", 200, []string{`"id":"url:https://x.vn/"`}, nil},
		{"get missing", "GET", "/api/v1/resources/dns:y.vn", "", 404, []string{`"code":"not_found"`, `dns:y.vn`}, nil},
		{"get malformed id", "GET", "/api/v1/resources/x.vn", "", 400, []string{`"field":"id"`, `no kind prefix`}, nil},
		{"get unescaped url", "GET", "/api/v1/resources/url:https:%2F%2Fx.vn/a", "", 404, []string{`"code":"not_found"`, `%2F`}, nil},

		{"create", "POST", "/api/v1/resources", `{"id":"dns:Bộ-Y-Tế.vn","system":"hn-mail"}`, 201,
			[]string{`"id":"dns:xn--b-y-t-`, `"system":"hn-mail"`, `"scope":"unverified"`, `"scope_reason":""`}, []string{`verified_at`}},
		{"create assigned", "POST", "/api/v1/resources", `{"id":"ip:192.0.2.10","system":"hn-mail","scope":"assigned","scope_reason":"ticket 7"}`, 201,
			[]string{`"id":"ip:192.0.2.10"`, `"scope":"assigned"`}, nil},
		{"create assigned without reason", "POST", "/api/v1/resources", `{"id":"ip:192.0.2.10","system":"hn-mail","scope":"assigned"}`, 400,
			[]string{`"field":"scope_reason"`}, nil},
		{"create verified by hand", "POST", "/api/v1/resources", `{"id":"dns:y.vn","system":"hn-mail","scope":"verified"}`, 400,
			[]string{`"field":"scope"`, `challenge`}, nil},
		{"create existing", "POST", "/api/v1/resources", `{"id":"dns:X.vn","system":"hn-mail"}`, 409,
			[]string{`"code":"conflict"`, `already belongs to system \"hn-portal\"`}, nil},
		{"create missing system", "POST", "/api/v1/resources", `{"id":"dns:y.vn","system":"s9"}`, 400, []string{`"field":"system"`}, nil},
		{"create bad id", "POST", "/api/v1/resources", `{"id":"ftp://x.vn","system":"hn-mail"}`, 400, []string{`"field":"id"`}, nil},
		{"create unknown field", "POST", "/api/v1/resources", `{"id":"dns:y.vn","system":"hn-mail","verify_token":"t"}`, 400,
			[]string{`unknown field \"verify_token\"`}, nil},

		{"put assign", "PUT", "/api/v1/resources/dns:x.vn", `{"system":"hn-portal","scope":"assigned","scope_reason":"ticket 9"}`, 200,
			[]string{`"scope":"assigned"`, `"scope_reason":"ticket 9"`}, nil},
		{"put move", "PUT", "/api/v1/resources/url:https:%2F%2Fx.vn%2F", `{"id":"url:https://X.VN:443","system":"hn-mail","scope":"unverified"}`, 200,
			[]string{`"system":"hn-mail"`, `"scope":"unverified"`}, nil},
		{"put round trip", "PUT", "/api/v1/resources/dns:x.vn",
			`{"id":"dns:x.vn","kind":"dns","system":"hn-mail","scope":"unverified","scope_reason":"","created":"2026-03-01T08:00:00Z","updated":"2026-03-01T08:00:00Z"}`, 200,
			[]string{`"system":"hn-mail"`}, nil},
		{"put id mismatch", "PUT", "/api/v1/resources/dns:x.vn", `{"id":"dns:y.vn","system":"hn-portal"}`, 400, []string{`"field":"id"`, `does not match`}, nil},
		{"put verified by hand", "PUT", "/api/v1/resources/dns:x.vn", `{"system":"hn-portal","scope":"verified"}`, 400, []string{`"field":"scope"`}, nil},
		{"put missing", "PUT", "/api/v1/resources/dns:y.vn", `{"system":"hn-portal"}`, 404, []string{`"code":"not_found"`}, nil},

		{"delete", "DELETE", "/api/v1/resources/url:https:%2F%2Fx.vn%2F", "", 204, nil, nil},
		{"delete missing", "DELETE", "/api/v1/resources/dns:y.vn", "", 404, []string{`"code":"not_found"`}, nil},
		{"delete malformed id", "DELETE", "/api/v1/resources/nonsense", "", 400, []string{`"field":"id"`}, nil},

		{"challenge dns", "POST", "/api/v1/resources/dns:x.vn/challenge", "", 200,
			[]string{`"resource":"dns:x.vn"`, `"token":"`, `"dns_name":"_khien-challenge.x.vn"`, `"dns_value":"khien-verification=`,
				`"http_url":"http://x.vn/.well-known/khien-verification.txt"`}, nil},
		{"challenge escaped url", "POST", "/api/v1/resources/url:https:%2F%2Fx.vn%2F/challenge", "", 200, []string{`"resource":"url:https://x.vn/"`}, nil},
		{"challenge missing", "POST", "/api/v1/resources/dns:y.vn/challenge", "", 404, []string{`"code":"not_found"`}, nil},
		{"challenge wrong method", "GET", "/api/v1/resources/dns:x.vn/challenge", "", 405, []string{`"code":"method_not_allowed"`}, nil},
		{"verify without challenge", "POST", "/api/v1/resources/dns:x.vn/verify", "", 400, []string{`no challenge was issued`}, nil},
		{"verify missing", "POST", "/api/v1/resources/dns:y.vn/verify", "", 404, []string{`"code":"not_found"`}, nil},
	}, func(d *Deps) { d.Prover = prover{err: notProven} }, nil)
}

func TestResourceVerify(t *testing.T) {
	issue := func(t *testing.T, inv *inventory.Service) {
		if _, err := inv.IssueChallenge(t.Context(), "dns:x.vn"); err != nil {
			t.Fatal(err)
		}
	}
	withProver := func(p inventory.Prover) func(*Deps) { return func(d *Deps) { d.Prover = p } }
	tests := []struct {
		apiCase
		prover inventory.Prover
	}{
		{apiCase{"verified", "POST", "/api/v1/resources/dns:x.vn/verify", "", 200,
			[]string{`"scope":"verified"`, `"scope_reason":"dns-txt _khien-challenge.x.vn"`, `"verified_at":"2026-03-01T08:00:00Z"`}, []string{`token`}},
			prover{how: "dns-txt _khien-challenge.x.vn"}},
		{apiCase{"not proven", "POST", "/api/v1/resources/dns:x.vn/verify", "", 400,
			[]string{`"code":"invalid"`, `ownership is not proven`}, nil},
			prover{err: notProven}},
		{apiCase{"no prover", "POST", "/api/v1/resources/dns:x.vn/verify", "", 503,
			[]string{`"code":"unavailable"`, `not configured`}, nil},
			nil},
	}
	for _, tt := range tests {
		runAPICases(t, []apiCase{tt.apiCase}, withProver(tt.prover), issue)
	}
}

// TestTokenStaysSecret checks that the verification token shows only in the challenge.
func TestTokenStaysSecret(t *testing.T) {
	srv, inv := newTestServer(t, nil)
	c, err := inv.IssueChallenge(t.Context(), "dns:x.vn")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/resources/dns:x.vn", "/api/v1/resources", "/api/v1/resources?kind=dns"} {
		rec := do(t, srv, "GET", path, "")
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), c.Token) {
			t.Errorf("GET %s = %d %s; want 200 without the token %s", path, rec.Code, rec.Body, c.Token)
		}
	}
	rec := do(t, srv, "POST", "/api/v1/resources/dns:x.vn/challenge", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"token":"`+c.Token+`"`) {
		t.Errorf("POST challenge = %d %s; want 200 with the pending token %s", rec.Code, rec.Body, c.Token)
	}
}
