package web

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/khien-vn/khien/internal/inventory"
)

// Resource handlers take the unified identifier from the {id} path segment, already
// unescaped by the mux ("url:https://x.vn/a"); the service normalizes it.

func handleResourceList(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, page, err := listQuery(r, "system", "under", "kind", "scope")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		kind, err := enumParam(q, "kind", inventory.Kinds)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		scope, err := enumParam(q, "scope", inventory.ScopeStatuses)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f := inventory.ResourceFilter{System: q.Get("system"), Under: q.Get("under"), Kind: kind, Scope: scope, Page: page}
		resources, total, err := inv.Resources(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(resources, total, page, resourceToJSON))
	})
}

func handleResourceCreate(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[resourceJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		res, err := inv.CreateResource(r.Context(), in.resource())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/api/v1/resources/"+url.PathEscape(res.ID))
		writeJSON(w, http.StatusCreated, resourceToJSON(res))
	})
}

func handleResourceGet(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := inv.Resource(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, resourceToJSON(res))
	})
}

// handleResourcePut changes a resource's system or scope. The identifier in the path names
// it; one in the body is optional and must normalize to the same identifier.
func handleResourcePut(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[resourceJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		id := r.PathValue("id")
		if in.ID != "" && normalized(in.ID) != normalized(id) {
			writeError(w, r, log, badRequest("id", "id %q in the body does not match %q in the path; to change an identifier, delete the resource and create the new one", in.ID, id))
			return
		}
		in.ID = id
		res, err := inv.UpdateResource(r.Context(), in.resource())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, resourceToJSON(res))
	})
}

// normalized is id in canonical form, or id itself when it does not parse (the service
// reports why).
func normalized(id string) string {
	if n, err := inventory.Normalize(id); err == nil {
		return n
	}
	return id
}

func handleResourceDelete(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := inv.DeleteResource(r.Context(), r.PathValue("id")); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeNoContent(w)
	})
}

// handleResourceChallenge issues the ownership token of a resource, or returns the pending
// one, with the DNS record or HTTP file that proves control.
func handleResourceChallenge(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := inv.IssueChallenge(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, challengeToJSON(c))
	})
}

// handleResourceVerify checks the pending challenge over the network with p and, when it is
// met, answers with the now verified resource.
func handleResourceVerify(log *slog.Logger, inv inventoryAPI, p inventory.Prover) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p == nil {
			writeError(w, r, log, &apiError{status: http.StatusServiceUnavailable, code: "unavailable",
				msg: "ownership verification is not configured on this server"})
			return
		}
		res, err := inv.Verify(r.Context(), r.PathValue("id"), p)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, resourceToJSON(res))
	})
}
