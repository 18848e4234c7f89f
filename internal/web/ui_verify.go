package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/check"
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
	// Reasons say, method by method, why the check just run did not prove ownership; the
	// page shows them in its language.
	Reasons []check.Text
}

// withResource serves h with the resource of the path as the principal may see it (one
// outside its subtree does not exist for it).
func (p *pages) withResource(h func(w http.ResponseWriter, r *http.Request, res inventory.Resource)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := p.inv.Resource(r.Context(), r.PathValue("id"))
		if err != nil {
			p.fail(w, r, err)
			return
		}
		h(w, r, res)
	})
}

// handleVerifyPage shows the pending ownership challenge of a resource, or a button to issue
// one: a GET changes nothing, so a link followed from elsewhere cannot issue a challenge.
func (p *pages) handleVerifyPage() http.Handler {
	return p.withResource(func(w http.ResponseWriter, r *http.Request, res inventory.Resource) {
		ctx := r.Context()
		// Only those who may issue and check a challenge see the page; the forms' calls are
		// refused by the scoped service anyway, this only spares others a page of buttons.
		if pr, ok := auth.PrincipalFrom(ctx); !ok || !slices.Contains(pr.Actions, auth.InventoryWrite) {
			p.fail(w, r, errs.E(errs.Forbidden, "proving ownership of %s needs %s", res.ID, auth.InventoryWrite))
			return
		}
		d, err := p.verifyData(res)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		p.render(w, r, http.StatusOK, "verify", newView(r, "verify.title", d))
	})
}

// verifyData is the ownership page of res: its pending challenge, if any, and the forms.
func (p *pages) verifyData(res inventory.Resource) (verifyData, error) {
	d := verifyData{Resource: res, Action: verifyPath(res.ID), Back: "/systems/" + url.PathEscape(res.System),
		Verified: res.Scope == inventory.ScopeVerified, Enabled: p.prover != nil,
		Issue: "/resources/" + url.PathEscape(res.ID) + "/challenge"}
	if !d.Verified && res.VerifyToken != "" {
		c, err := inventory.ChallengeFor(res, res.VerifyToken)
		if err != nil {
			return verifyData{}, err
		}
		d.Challenge, d.Pending = c, true
	}
	return d, nil
}

// handleChallengeForm issues the ownership challenge of a resource (or keeps the pending one),
// through the same scoped, audited call as POST /api/v1/resources/{id}/challenge, and goes
// back to the ownership page, which now shows it.
func (p *pages) handleChallengeForm() http.Handler {
	return p.withResource(func(w http.ResponseWriter, r *http.Request, res inventory.Resource) {
		ctx := r.Context()
		if _, err := p.inv.IssueChallenge(ctx, res.ID); err != nil {
			p.fail(w, r, err)
			return
		}
		seeOther(w, r, verifyPath(res.ID))
	})
}

// handleVerifyForm checks the pending challenge and goes back to the system's page, saying
// that the resource is now verified. When the check fails with the prover's account of each
// method (an *inventory.ProofError), the ownership page is shown again, unredirected, with
// status 422 and each method's reason in the page's language: the reasons are built from
// outcome codes, never from the prover's English detail, which goes to the log. A failure
// without that account goes back to the system's page with the catalog's general reason.
func (p *pages) handleVerifyForm() http.Handler {
	return p.withResource(func(w http.ResponseWriter, r *http.Request, res inventory.Resource) {
		ctx := r.Context()
		if p.prover == nil {
			p.render(w, r, http.StatusServiceUnavailable, "error", newView(r, "err.title", "verify.unavailable"))
			return
		}
		back := "/systems/" + url.PathEscape(res.System)
		if _, err := p.inv.Verify(ctx, res.ID, p.prover); err != nil {
			if pe, ok := errors.AsType[*inventory.ProofError](err); ok && (errs.Is(err, errs.Invalid) || errs.Is(err, errs.OutOfScope)) {
				p.renderNotProven(ctx, w, r, res, pe, err)
				return
			}
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

// renderNotProven shows the ownership page of res again with why pe's check failed: 422, or
// 403 when the fence refused the only method (the status the error page gave it before).
func (p *pages) renderNotProven(ctx context.Context, w http.ResponseWriter, r *http.Request, res inventory.Resource, pe *inventory.ProofError, err error) {
	p.log.InfoContext(ctx, "ownership not proven from the page", "resource", res.ID, "err", err)
	d, derr := p.verifyData(res)
	if derr != nil {
		p.fail(w, r, derr)
		return
	}
	for _, a := range pe.Attempts {
		d.Reasons = append(d.Reasons, check.Text(a.Reason()))
	}
	status := http.StatusUnprocessableEntity
	if errs.Is(err, errs.OutOfScope) {
		status = http.StatusForbidden
	}
	p.render(w, r, status, "verify", newView(r, "verify.title", d))
}

// proofAttemptJSON is one method of a failed ownership proof in an API error: the stable
// outcome code for programs, the reason in both languages for people.
type proofAttemptJSON struct {
	Method  string         `json:"method"`
	Target  string         `json:"target"`
	Outcome string         `json:"outcome"`
	Status  int            `json:"status,omitempty"` // http-status
	Seen    int            `json:"seen,omitempty"`   // record-missing
	Reason  inventory.Text `json:"reason"`
}

// proofAttemptsJSON lists the attempts of pe for the API's error. The English detail stays
// out: the message already carries it.
func proofAttemptsJSON(pe *inventory.ProofError) []proofAttemptJSON {
	out := make([]proofAttemptJSON, len(pe.Attempts))
	for i, a := range pe.Attempts {
		out[i] = proofAttemptJSON{Method: a.Method, Target: a.Target, Outcome: string(a.Outcome), Status: a.Status, Seen: a.Seen, Reason: a.Reason()}
	}
	return out
}
