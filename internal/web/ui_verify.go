package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// The ownership page of a resource: what to publish to prove control of it, and a button
// that checks. It calls the same scoped service as POST /api/v1/resources/{id}/challenge and
// /verify (auth.Inventory), so the subtree, the inventory:write action and the audit record
// are the API's.

// verifyPath is the ownership page of the resource id.
func verifyPath(id string) string { return "/resources/" + url.PathEscape(id) + "/verify" }

// verifyData is the ownership page.
type verifyData struct {
	Resource  inventory.Resource
	Challenge inventory.Challenge
	Action    string // the page's own path, escaped, for its form
	Back      string // the system's page
	Verified  bool   // nothing to prove: the resource is verified already
	Pending   bool   // a challenge is issued: Challenge holds it
	Issue     string // where the form that issues the challenge posts
	Enabled   bool   // a prover is configured, so the check can run
}

// handleVerifyPage shows the pending ownership challenge of a resource, or a button to issue
// one: a GET changes nothing, so a link followed from elsewhere cannot issue a challenge.
func (p *pages) handleVerifyPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := r.Context(), r.PathValue("id")
		res, err := p.inv.Resource(ctx, id)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		// Only those who may issue and check a challenge see the page; the forms' calls are
		// refused by the scoped service anyway, this only spares others a page of buttons.
		if pr, ok := auth.PrincipalFrom(ctx); !ok || !slices.Contains(pr.Actions, auth.InventoryWrite) {
			p.fail(w, r, errs.E(errs.Forbidden, "proving ownership of %s needs %s", res.ID, auth.InventoryWrite))
			return
		}
		d := verifyData{Resource: res, Action: verifyPath(res.ID), Back: "/systems/" + url.PathEscape(res.System),
			Verified: res.Scope == inventory.ScopeVerified, Enabled: p.prover != nil,
			Issue: "/resources/" + url.PathEscape(res.ID) + "/challenge"}
		if !d.Verified && res.VerifyToken != "" {
			if d.Challenge, err = inventory.ChallengeFor(res, res.VerifyToken); err != nil {
				p.fail(w, r, err)
				return
			}
			d.Pending = true
		}
		p.render(w, r, http.StatusOK, "verify", newView(r, "verify.title", d))
	})
}

// handleChallengeForm issues the ownership challenge of a resource (or keeps the pending one),
// through the same scoped, audited call as POST /api/v1/resources/{id}/challenge, and goes
// back to the ownership page, which now shows it.
func (p *pages) handleChallengeForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := r.Context(), r.PathValue("id")
		res, err := p.inv.Resource(ctx, id)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		if _, err := p.inv.IssueChallenge(ctx, res.ID); err != nil {
			p.fail(w, r, err)
			return
		}
		seeOther(w, r, verifyPath(res.ID))
	})
}

// handleVerifyForm checks the pending challenge and goes back to the system's page, saying
// whether the resource is now verified. Why a check failed is logged: the prover's account
// of what it looked up is in English only, so the page shows the catalog's reason.
func (p *pages) handleVerifyForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := r.Context(), r.PathValue("id")
		res, err := p.inv.Resource(ctx, id)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		if p.prover == nil {
			p.render(w, r, http.StatusServiceUnavailable, "error", newView(r, "err.title", "verify.unavailable"))
			return
		}
		back := "/systems/" + url.PathEscape(res.System)
		if _, err := p.inv.Verify(ctx, res.ID, p.prover); err != nil {
			if !errs.Is(err, errs.Invalid) {
				p.fail(w, r, err)
				return
			}
			p.log.InfoContext(ctx, "ownership not proven from the page", "resource", res.ID, "err", err)
			if res.VerifyToken == "" {
				seeOther(w, r, back+"?e=verifynone")
				return
			}
			seeOther(w, r, back+"?e=verify")
			return
		}
		seeOther(w, r, back+"?done=verified")
	})
}
