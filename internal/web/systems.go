package web

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/khien-vn/khien/internal/inventory"
)

func handleSystemList(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, page, err := listQuery(r, "org", "under", "stage", "level")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		stage, err := enumParam(q, "stage", inventory.Stages)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		level, err := intParam(q, "level", 1, 5)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f := inventory.SystemFilter{Org: q.Get("org"), Under: q.Get("under"), Stage: stage, Level: level, Page: page}
		systems, total, err := inv.Systems(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(systems, total, page, systemToJSON))
	})
}

// handleSystemCreate stores a new system; without an id in the body one is generated.
func handleSystemCreate(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[systemJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		s, err := inv.CreateSystem(r.Context(), in.system())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/api/v1/systems/"+url.PathEscape(s.ID))
		writeJSON(w, http.StatusCreated, systemToJSON(s))
	})
}

func handleSystemGet(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := inv.System(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, systemToJSON(s))
	})
}

// handleSystemPut replaces a system. The id in the path names it; an id in the body is
// optional and must agree.
func handleSystemPut(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[systemJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		id := r.PathValue("id")
		if in.ID != "" && in.ID != id {
			writeError(w, r, log, badRequest("id", "id %q in the body does not match %q in the path; a system's id cannot change", in.ID, id))
			return
		}
		in.ID = id
		s, err := inv.UpdateSystem(r.Context(), in.system())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, systemToJSON(s))
	})
}

func handleSystemDelete(log *slog.Logger, inv inventoryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := inv.DeleteSystem(r.Context(), r.PathValue("id")); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeNoContent(w)
	})
}
