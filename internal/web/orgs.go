package web

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/khien-vn/khien/internal/inventory"
)

func handleOrgList(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, page, err := listQuery(r, "under", "parent", "level")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		level, err := enumParam(q, "level", inventory.Levels)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f := inventory.OrgFilter{Under: q.Get("under"), Parent: q.Get("parent"), Level: level, Page: page}
		orgs, total, err := inv.Orgs(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(orgs, total, page, orgToJSON))
	})
}

func handleOrgCreate(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[orgJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		o, err := inv.CreateOrg(r.Context(), in.org())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/api/v1/organizations/"+url.PathEscape(o.Code))
		writeJSON(w, http.StatusCreated, orgToJSON(o))
	})
}

func handleOrgGet(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := inv.Org(r.Context(), r.PathValue("code"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, orgToJSON(o))
	})
}

// handleOrgPut replaces an organization. The code in the path names it; a code in the body
// is optional and must agree, since renaming is not an update.
func handleOrgPut(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[orgJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		code := r.PathValue("code")
		if in.Code != "" && in.Code != code {
			writeError(w, r, log, badRequest("code", "code %q in the body does not match %q in the path; an organization's code cannot change", in.Code, code))
			return
		}
		in.Code = code
		o, err := inv.UpdateOrg(r.Context(), in.org())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, orgToJSON(o))
	})
}

func handleOrgDelete(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := inv.DeleteOrg(r.Context(), r.PathValue("code")); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeNoContent(w)
	})
}
