package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIAuthSchemas keeps the schemas of sessions, accounts, tokens and the audit log
// equal to their wire structs.
func TestOpenAPIAuthSchemas(t *testing.T) {
	doc := openAPIDoc(t)
	for schema, wire := range map[string]any{
		"Login": loginJSON{}, "Session": sessionJSON{}, "User": userJSON{}, "UserInput": userInputJSON{},
		"Me": meJSON{}, "Token": tokenJSON{}, "TokenInput": tokenInputJSON{}, "AuditEntry": auditEntryJSON{},
	} {
		s, err := pointer(doc, "#/components/schemas/"+schema)
		if err != nil {
			t.Fatalf("schema %s: %v", schema, err)
		}
		props, _ := s["properties"].(map[string]any)
		if documented, fields := slices.Sorted(maps.Keys(props)), jsonFields(wire); !slices.Equal(documented, fields) {
			t.Errorf("schema %s has properties %v; the wire struct %T has %v", schema, documented, wire, fields)
		}
	}
}

// TestOpenAPIAuthResponses checks real answers of the new routes against the document.
func TestOpenAPIAuthResponses(t *testing.T) {
	doc := openAPIDoc(t)
	tp := newTwoProvinces(t)
	admin := tp.signIn(t, "hn-admin")
	officerID, dnTok := tp.users["hn-officer"].ID, tp.dnToken
	tests := []struct {
		method, route, path, body string
		hdr                       http.Header
		status                    int
	}{
		{"POST", "/api/v1/session", "/api/v1/session", `{"login":"hn-leader","password":"` + tp.password + `"}`, nil, 201},
		{"POST", "/api/v1/session", "/api/v1/session", `{"login":"hn-leader","password":"wrong password here"}`, nil, 401},
		{"POST", "/api/v1/session", "/api/v1/session", `{"login":"hn-leader","pwd":"x"}`, nil, 400},
		{"DELETE", "/api/v1/session", "/api/v1/session", "", bearer(tp.tokens["hn-admin"]), 400},
		{"GET", "/api/v1/me", "/api/v1/me", "", admin, 200},
		{"GET", "/api/v1/me", "/api/v1/me", "", bearer(tp.tokens["hn-leader"]), 200},
		{"GET", "/api/v1/me", "/api/v1/me", "", nil, 401},
		{"GET", "/api/v1/users", "/api/v1/users", "", admin, 200},
		{"GET", "/api/v1/users", "/api/v1/users", "", bearer(tp.tokens["hn-admin"]), 403},
		{"POST", "/api/v1/users", "/api/v1/users", `{"login":"new","role":"org_admin","org":"HN","password":"một mật khẩu rất dài"}`, admin, 201},
		{"POST", "/api/v1/users", "/api/v1/users", `{"login":"new","role":"leader","org":"HN","password":"một mật khẩu rất dài"}`, admin, 409},
		{"GET", "/api/v1/users/{id}", "/api/v1/users/" + officerID, "", admin, 200},
		{"GET", "/api/v1/users/{id}", "/api/v1/users/u-none", "", admin, 404},
		{"PUT", "/api/v1/users/{id}", "/api/v1/users/" + officerID, `{"role":"auditor","org":"HN"}`, admin, 200},
		{"GET", "/api/v1/tokens", "/api/v1/tokens", "", admin, 200},
		{"POST", "/api/v1/tokens", "/api/v1/tokens", `{"name":"ci","actions":["gate:read"]}`, admin, 201},
		{"GET", "/api/v1/tokens/{id}", "/api/v1/tokens/" + tokenID(tp.tokens["hn-leader"]), "", admin, 200},
		{"GET", "/api/v1/tokens/{id}", "/api/v1/tokens/" + dnTok, "", admin, 404},
		{"GET", "/api/v1/audit", "/api/v1/audit", "", admin, 200},
		{"GET", "/api/v1/audit", "/api/v1/audit?limit=x", "", admin, 400},
		{"GET", "/api/v1/systems", "/api/v1/systems", "", nil, 401},
		{"DELETE", "/api/v1/systems/{id}", "/api/v1/systems/hn-mail", "", bearer(tp.tokens["hn-auditor"]), 403},
	}
	for i := 1; i <= 5; i++ { // the fifth failure locks
		tests = append(tests, struct {
			method, route, path, body string
			hdr                       http.Header
			status                    int
		}{"POST", "/api/v1/session", "/api/v1/session", `{"login":"hn-auditor","password":"wrong password"}`, nil, map[bool]int{true: 429, false: 401}[i == 5]})
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %d", tt.method, tt.path, tt.status), func(t *testing.T) {
			rec := send(t, tp.srv, tt.method, tt.path, tt.body, tt.hdr)
			if rec.Code != tt.status {
				t.Fatalf("%s %s = %d %s; want %d", tt.method, tt.path, rec.Code, rec.Body, tt.status)
			}
			op, err := pointer(doc, "#/paths/"+strings.ReplaceAll(tt.route, "/", "~1")+"/"+strings.ToLower(tt.method))
			if err != nil {
				t.Fatalf("openapi.json has no %s %s: %v", tt.method, tt.route, err)
			}
			resp := resolve(t, doc, op["responses"].(map[string]any)[fmt.Sprint(tt.status)])
			if resp == nil {
				t.Fatalf("openapi.json does not document status %d of %s %s", tt.status, tt.method, tt.route)
			}
			content, _ := resp["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			if media == nil {
				t.Fatalf("openapi.json gives no JSON schema for %d of %s %s", tt.status, tt.method, tt.route)
			}
			var got any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("response is not JSON: %v\n%s", err, rec.Body)
			}
			for _, p := range checkSchema(t, doc, media["schema"], got, "") {
				t.Errorf("%s\n%s", p, rec.Body)
			}
		})
	}
}
