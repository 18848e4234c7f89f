package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// maxBody caps every request body. The largest legitimate body is one system record.
const maxBody = 1 << 20

// apiError is an error that the HTTP layer raises itself: a malformed body or query, a body
// too large, no route, a feature not configured. Its message is complete and safe to show.
type apiError struct {
	status int
	code   string
	field  string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// badRequest is a 400 invalid error about one input field (a JSON property or query
// parameter), or about the whole input when field is empty.
func badRequest(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid", field: field, msg: fmt.Sprintf(format, args...)}
}

// errorJSON is the one error shape: {"error":{"code":…,"message":…,"field":…}}.
type errorJSON struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Attempts say, for a failed ownership proof, what each method found (ui_verify.go).
	Attempts []proofAttemptJSON `json:"attempts,omitempty"`
}

// writeError is the only place that turns an error into a response. Kinds map to statuses
// here and nowhere else; internal errors show a generic message and go to the log whole.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var body errorBody
	var status int
	if ae, ok := errors.AsType[*apiError](err); ok {
		status, body = ae.status, errorBody{Code: ae.code, Message: ae.msg, Field: ae.field}
	} else {
		kind := errs.KindOf(err)
		switch kind {
		case errs.Invalid:
			status = http.StatusBadRequest
		case errs.NotFound:
			status = http.StatusNotFound
		case errs.Conflict:
			status = http.StatusConflict
		case errs.Forbidden, errs.OutOfScope:
			status = http.StatusForbidden
		case errs.Unauthenticated:
			status = http.StatusUnauthorized
		default:
			kind, status = errs.Internal, http.StatusInternalServerError
		}
		body.Code = kind.String()
		body.Message, body.Field = userMessage(err)
		if pe, ok := errors.AsType[*inventory.ProofError](err); ok && kind != errs.Internal {
			body.Attempts = proofAttemptsJSON(pe)
		}
	}
	if status == http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", routeOf(r), "err", err)
	}
	writeJSON(w, status, errorJSON{Error: body})
}

// userMessage returns the user-safe message of a domain error and the field it concerns.
// Validation reports every problem joined; the message lists them all, the field is the
// first one's. Each problem is prefixed with its field so that the message reads on its own.
func userMessage(err error) (msg, field string) {
	if errs.KindOf(err) == errs.Internal {
		return "internal error", ""
	}
	problems := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		problems = j.Unwrap()
	}
	var msgs []string
	for _, p := range problems {
		e, ok := errors.AsType[*errs.Error](p)
		if !ok || e.Kind == errs.Internal {
			continue
		}
		m := e.Msg
		if e.Field != "" {
			m = e.Field + ": " + m
			if field == "" {
				field = e.Field
			}
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; "), field
}

// writeJSON writes v with status. The API headers are already set by apiHeaders.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the content type is JSON with nosniff; keep URLs readable
	if err := enc.Encode(v); err != nil {
		// Only a programming error (a type JSON cannot encode) gets here.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"code":"internal","message":"internal error"}}`+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // the client may be gone; nothing to do about it
}

// writeNoContent answers 204 with no body and so no content type.
func writeNoContent(w http.ResponseWriter) {
	w.Header().Del("Content-Type")
	w.WriteHeader(http.StatusNoContent)
}

// decode reads one JSON value of type T from the body, strictly: at most maxBody bytes,
// no unknown fields, nothing after the value. Its errors say what is wrong and where.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return v, decodeError(err)
		}
		return v, badRequest("", "invalid JSON at offset %d: unexpected data after the object", dec.InputOffset())
	}
	return v, nil
}

// decodeError turns an encoding/json error into a message naming the problem and where it is.
func decodeError(err error) error {
	if mb, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: fmt.Sprintf("request body is larger than the limit of %d bytes", mb.Limit)}
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return badRequest("", "invalid JSON at offset %d: %v", se.Offset, se)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return badRequest("", "invalid JSON at offset %d: the body must be a JSON object, not %s", te.Offset, article(te.Value))
		}
		return badRequest(te.Field, "invalid JSON at offset %d: %q must be %s, not %s", te.Offset, te.Field, jsonType(te.Type), article(te.Value))
	}
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("", "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "invalid JSON: the body ends before the object does")
	}
	// encoding/json has no type for an unknown field; its message is the only handle.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return badRequest(name, "invalid JSON: unknown field %q", name)
	}
	return badRequest("", "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonType names the JSON type that decodes into t.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct:
		if t.PkgPath() == "time" {
			return "an RFC 3339 time"
		}
		return "an object"
	}
	return "a " + t.String()
}

// article puts "a" or "an" before the JSON value kinds encoding/json reports ("string",
// "number 1.5", "array", "object").
func article(v string) string {
	if v != "" && strings.ContainsRune("aeiou", rune(v[0])) {
		return "an " + v
	}
	return "a " + v
}

// listQuery checks a listing's query string (only the named filters, limit and offset, each
// at most once) and returns its values and the bounded page.
func listQuery(r *http.Request, filters ...string) (url.Values, inventory.Page, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, inventory.Page{}, badRequest("", "malformed query string: %v", err)
	}
	known := append([]string{"limit", "offset"}, filters...)
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(known, name):
			return nil, inventory.Page{}, badRequest(name, "unknown query parameter %q; use %s", name, strings.Join(known, ", "))
		case len(q[name]) > 1:
			return nil, inventory.Page{}, badRequest(name, "query parameter %q is given %d times; give it once", name, len(q[name]))
		}
	}
	limit, err := intParam(q, "limit", 0, math.MaxInt32)
	if err != nil {
		return nil, inventory.Page{}, err
	}
	offset, err := intParam(q, "offset", 0, math.MaxInt32)
	if err != nil {
		return nil, inventory.Page{}, err
	}
	return q, inventory.Page{Limit: limit, Offset: offset}.Bounded(), nil
}

// intParam reads an optional integer query parameter within [lo, hi]; absent gives 0.
func intParam(q url.Values, name string, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err == nil && n >= lo && n <= hi:
		return n, nil
	case hi == math.MaxInt32:
		return 0, badRequest(name, "query parameter %q must be an integer of at least %d, got %q", name, lo, s)
	default:
		return 0, badRequest(name, "query parameter %q must be an integer from %d to %d, got %q", name, lo, hi, s)
	}
}

// enumParam reads an optional query parameter that must be one of valid; absent gives "".
func enumParam[T ~string](q url.Values, name string, valid []T) (T, error) {
	s := T(q.Get(name))
	if s == "" || slices.Contains(valid, s) {
		return s, nil
	}
	names := make([]string, len(valid))
	for i, v := range valid {
		names[i] = string(v)
	}
	return "", badRequest(name, "query parameter %q must be one of %s, got %q", name, strings.Join(names, ", "), s)
}
