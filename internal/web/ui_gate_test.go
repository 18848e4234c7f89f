package web

import (
	"strings"
	"testing"
)

// TestSystemPageShowsGateDecisions asks the gate through the API, then finds the recorded
// decision, its stage and its reasons on the system's page, in the page's language.
func TestSystemPageShowsGateDecisions(t *testing.T) {
	tp := newTwoProvinces(t)
	rec := send(t, tp.srv, "POST", "/api/v1/gate", `{"system":"hn-portal","stage":"operation"}`, bearer(tp.tokens["hn-admin"]))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"allowed":false`) {
		t.Fatalf("gate = %d %s", rec.Code, rec.Body)
	}
	hdr := tp.signIn(t, "hn-officer")
	code, body := pageGet(t, tp, hdr, "/systems/hn-portal")
	if code != 200 || !strings.Contains(body, `id="gate-decisions"`) || !strings.Contains(body, "Không được phép") || !strings.Contains(body, "hn-admin") {
		t.Fatalf("system page = %d, lacks the recorded decision:\n%s", code, body)
	}
	en := hdr.Clone()
	en.Set("Cookie", en.Get("Cookie")+"; lang=en")
	if _, body := pageGet(t, tp, en, "/systems/hn-portal"); !strings.Contains(body, "Recorded gate decisions") || !strings.Contains(body, "Denied") {
		t.Errorf("English system page lacks the decision:\n%s", body)
	}
	// A system with no decision shows no section.
	if _, body := pageGet(t, tp, hdr, "/systems/hn-mail"); strings.Contains(body, `id="gate-decisions"`) {
		t.Errorf("hn-mail shows decisions it never had")
	}
}
