// Package errs classifies errors so that each boundary (HTTP status in web, exit code in cli)
// maps them once. An Error carries a message that is safe to show to users, the field it is
// about, and an internal cause that is only logged.
package errs

import (
	"errors"
	"fmt"
)

// Kind is the class of an error. Add kinds at the end only: the values are stable.
type Kind int

// The kinds of error Khiên distinguishes.
const (
	Internal        Kind = iota // default: log it, show "internal error"
	Invalid                     // the caller sent something wrong
	NotFound                    // the named thing does not exist
	Conflict                    // the thing exists already or was changed meanwhile
	Forbidden                   // authenticated but not allowed here
	OutOfScope                  // the target is not authorized for active scanning
	Unauthenticated             // no or bad credentials
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "forbidden", "out_of_scope", "unauthenticated"}

// String returns the stable code used in JSON errors ("not_found", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// Error is an error with a kind, a user-safe message and an optional field it concerns.
type Error struct {
	Kind  Kind
	Field string // the input field at fault, if any ("level", "parent")
	Msg   string // safe to show to users
	Err   error  // internal cause, may be nil; never shown to users
}

func (e *Error) Error() string {
	msg := e.Msg
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an error of kind k with a formatted user message.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Field builds an Invalid error about one input field.
func Field(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Wrap gives err the kind k and a user message, keeping err as the internal cause.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: err}
}

// KindOf reports the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Message returns the user-safe message of err and the field it concerns. Internal errors
// give "internal error": their details belong in the log only.
func Message(err error) (msg, field string) {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Msg, e.Field
	}
	return "internal error", ""
}
