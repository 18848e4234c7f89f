package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// patternRecorder is a handlerTable that keeps the patterns addRoutes registers.
type patternRecorder []string

func (p *patternRecorder) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

// openAPIDoc decodes the embedded document.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes checks that every route is documented with its method, and that
// the document describes no route the server lacks.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}

	var rec patternRecorder
	addRoutes(&rec, Deps{}, newMetrics(""))
	served := map[string]bool{}
	for _, p := range rec {
		method, path, ok := strings.Cut(p, " ")
		if !ok || method == "" {
			t.Errorf("route %q has no method; every route names one", p)
			continue
		}
		served[method+" "+path] = true
	}

	documented := map[string]bool{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for key, op := range ops {
			switch key {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
			default:
				continue
			}
			documented[strings.ToUpper(key)+" "+path] = true
			checkPathParams(t, path, ops, op.(map[string]any))
		}
	}

	for _, r := range slices.Sorted(maps.Keys(served)) {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(documented)) {
		if !served[r] {
			t.Errorf("openapi.json describes %s, which addRoutes does not serve", r)
		}
	}
	if !served["GET /api/v1/resources/{id}"] || len(served) < 20 {
		t.Errorf("the recorder saw only %d routes: %v", len(served), rec)
	}
}

// checkPathParams checks that each {name} in path is declared as a required path parameter.
func checkPathParams(t *testing.T, path string, item, op map[string]any) {
	t.Helper()
	declared := map[string]bool{}
	doc := openAPIDoc(t)
	for _, list := range []any{item["parameters"], op["parameters"]} {
		params, _ := list.([]any)
		for _, p := range params {
			pm := resolve(t, doc, p)
			if pm["in"] == "path" && pm["required"] == true {
				declared[pm["name"].(string)] = true
			}
		}
	}
	for seg := range strings.SplitSeq(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			if name = strings.TrimSuffix(name, "}"); !declared[name] {
				t.Errorf("%s: path parameter %q is not declared as required", path, name)
			}
		}
	}
}

// TestOpenAPIRefs checks that every $ref in the document points at something.
func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIDoc(t)
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := pointer(doc, ref); err != nil {
					t.Errorf("%s: $ref %s: %v", at, ref, err)
				}
			}
			for k, c := range v {
				walk(at+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s/%d", at, i), c)
			}
		}
	}
	walk("#", doc)
}

// pointer follows a local JSON pointer such as #/components/schemas/Error.
func pointer(doc map[string]any, ref string) (map[string]any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	var cur any = doc
	for part := range strings.SplitSeq(rest, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part) // RFC 6901
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("no %q", part)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("does not point at an object")
	}
	return m, nil
}

// resolve follows v's $ref, if it has one.
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		next, err := pointer(doc, ref)
		if err != nil {
			t.Fatalf("$ref %s: %v", ref, err)
		}
		m = next
	}
	return m
}

// TestOpenAPIResponses checks real responses against the schema the document gives for
// their route and status: the status must be documented, the required properties present,
// no undeclared property present, and the types right. The check is hand-written and small;
// it knows the keywords openapi.json uses.
func TestOpenAPIResponses(t *testing.T) {
	doc := openAPIDoc(t)
	srv, inv := newTestServer(t, func(d *Deps) { d.Prover = prover{how: "http http://x.vn/.well-known/khien-verification.txt"} })
	if _, err := inv.IssueChallenge(t.Context(), "dns:x.vn"); err != nil { // so that verify succeeds
		t.Fatal(err)
	}
	tests := []struct {
		method, route, path, body string
		status                    int
	}{
		{"GET", "/healthz", "/healthz", "", 200},
		{"GET", "/api/v1/organizations", "/api/v1/organizations", "", 200},
		{"GET", "/api/v1/organizations", "/api/v1/organizations?limit=abc", "", 400},
		{"POST", "/api/v1/organizations", "/api/v1/organizations", `{"code":"DN","name":"Đà Nẵng","level":"province"}`, 201},
		{"POST", "/api/v1/organizations", "/api/v1/organizations", `{"code":"HN","name":"Hà Nội","level":"province"}`, 409},
		{"POST", "/api/v1/organizations", "/api/v1/organizations", `{"code":"X","name":"` + strings.Repeat("x", maxBody) + `"}`, 413},
		{"GET", "/api/v1/organizations/{code}", "/api/v1/organizations/HN", "", 200},
		{"GET", "/api/v1/organizations/{code}", "/api/v1/organizations/XX", "", 404},
		{"PUT", "/api/v1/organizations/{code}", "/api/v1/organizations/DN", `{"name":"Đà Nẵng","level":"province"}`, 200},
		{"PUT", "/api/v1/organizations/{code}", "/api/v1/organizations/DN", `{"nme":"typo"}`, 400},
		{"DELETE", "/api/v1/organizations/{code}", "/api/v1/organizations/HN", "", 409},
		{"GET", "/api/v1/systems", "/api/v1/systems", "", 200},
		{"POST", "/api/v1/systems", "/api/v1/systems", `{"org":"HN","name":"Cổng","level":2,"stage":"design","data_classes":["personal"]}`, 201},
		{"GET", "/api/v1/systems/{id}", "/api/v1/systems/hn-portal", "", 200},
		{"PUT", "/api/v1/systems/{id}", "/api/v1/systems/hn-mail", `{"org":"HN","name":"Thư","level":2,"stage":"test","level_approved":true}`, 200},
		{"GET", "/api/v1/resources", "/api/v1/resources", "", 200},
		{"POST", "/api/v1/resources", "/api/v1/resources", `{"id":"ip:192.0.2.1","system":"hn-mail"}`, 201},
		{"GET", "/api/v1/resources/{id}", "/api/v1/resources/url:https:%2F%2Fx.vn%2F", "", 200},
		{"PUT", "/api/v1/resources/{id}", "/api/v1/resources/url:https:%2F%2Fx.vn%2F", `{"system":"hn-mail"}`, 200},
		{"POST", "/api/v1/resources/{id}/challenge", "/api/v1/resources/ip:192.0.2.1/challenge", "", 200},
		{"POST", "/api/v1/resources/{id}/challenge", "/api/v1/resources/dns:x.vn/challenge", "", 200},
		{"POST", "/api/v1/resources/{id}/verify", "/api/v1/resources/dns:x.vn/verify", "", 200},
		{"POST", "/api/v1/resources/{id}/verify", "/api/v1/resources/dns:y.vn/verify", "", 404},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s %s %d", tt.method, tt.path, tt.status)
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			rec := do(t, srv, tt.method, tt.path, tt.body)
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

// TestOpenAPIPointerEscape guards the test's own JSON pointer, which the resource routes need.
func TestOpenAPIPointerEscape(t *testing.T) {
	if _, err := pointer(openAPIDoc(t), "#/paths/~1api~1v1~1resources~1{id}~1verify/post"); err != nil {
		t.Fatal(err)
	}
}

// checkSchema reports how v departs from schema.
func checkSchema(t *testing.T, doc map[string]any, schema, v any, at string) []string {
	t.Helper()
	s := resolve(t, doc, schema)
	if s == nil {
		return nil // {} or true: anything goes
	}
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, "at "+cmpOr(at, "/")+": "+fmt.Sprintf(format, args...))
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			problems = append(problems, checkSchema(t, doc, sub, v, at)...)
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad("%v is not one of %v", v, enum)
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			break
		}
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := m[r.(string)]; !ok {
					bad("required property %q is missing", r)
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ps, declared := props[k]
			if !declared {
				if s["additionalProperties"] == false {
					bad("property %q is not in the schema", k)
				}
				continue
			}
			problems = append(problems, checkSchema(t, doc, ps, m[k], at+"/"+k)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			break
		}
		for i, e := range a {
			problems = append(problems, checkSchema(t, doc, s["items"], e, fmt.Sprintf("%s/%d", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			break
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				bad("%q is not an RFC 3339 time", str)
			}
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			bad("want an integer, got %v", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want true or false, got %v", v)
		}
	}
	return problems
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestOpenAPIInputSchemas checks that the documented request properties are exactly what the
// decoder accepts: a property the document promises must not be refused as unknown.
func TestOpenAPIInputSchemas(t *testing.T) {
	doc := openAPIDoc(t)
	tests := []struct {
		schema string
		wire   any
	}{
		{"OrganizationInput", orgJSON{}},
		{"SystemInput", systemJSON{}},
		{"ResourceInput", resourceJSON{}},
		{"Organization", orgJSON{}},
		{"System", systemJSON{}},
		{"Resource", resourceJSON{}},
		{"Challenge", challengeJSON{}},
		{"Person", personJSON{}},
		{"Health", healthJSON{}},
	}
	for _, tt := range tests {
		s, err := pointer(doc, "#/components/schemas/"+tt.schema)
		if err != nil {
			t.Fatalf("schema %s: %v", tt.schema, err)
		}
		props, _ := s["properties"].(map[string]any)
		documented := slices.Sorted(maps.Keys(props))
		fields := jsonFields(tt.wire)
		if !slices.Equal(documented, fields) {
			t.Errorf("schema %s has properties %v; the wire struct %T has %v", tt.schema, documented, tt.wire, fields)
		}
	}
}

// jsonFields lists the JSON property names of a wire struct, from its tags.
func jsonFields(v any) []string {
	var names []string
	for f := range reflect.TypeOf(v).Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestCheckSchemaCatches makes sure the checker above would fail a wrong response.
func TestCheckSchemaCatches(t *testing.T) {
	doc := openAPIDoc(t)
	var bad any
	json.Unmarshal([]byte(`{"name":"Hà Nội","level":"planet","parent":"","head":{"name":"A","title":"B","contact":"C"},
		"created":"yesterday","updated":"2026-03-01T08:00:00Z","verify_token":"secret"}`), &bad)
	got := checkSchema(t, doc, map[string]any{"$ref": "#/components/schemas/Organization"}, bad, "")
	want := []string{`"code" is missing`, `planet is not one of`, `"yesterday" is not an RFC 3339 time`, `"verify_token" is not in the schema`}
	if len(got) != len(want) {
		t.Errorf("checkSchema found %d problems, want %d: %q", len(got), len(want), got)
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("checkSchema missed %s: %q", w, got)
		}
	}
}
