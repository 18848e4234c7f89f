package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name     string
		err      error
		kind     Kind
		msg      string
		field    string
		errorStr string
	}{
		{"plain", cause, Internal, "internal error", "", "disk on fire"},
		{"field", Field("level", "must be 1 to 5, got %d", 9), Invalid, "must be 1 to 5, got 9", "level", "level: must be 1 to 5, got 9"},
		{"wrapped", fmt.Errorf("import: %w", E(NotFound, "system %q not found", "s1")), NotFound, `system "s1" not found`, "", `import: system "s1" not found`},
		{"internal keeps cause out of message", Wrap(Internal, cause, "save"), Internal, "internal error", "", "save: disk on fire"},
		{"conflict with cause", Wrap(Conflict, cause, "code taken"), Conflict, "code taken", "", "code taken: disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.kind {
				t.Errorf("KindOf = %v, want %v", got, tt.kind)
			}
			msg, field := Message(tt.err)
			if msg != tt.msg || field != tt.field {
				t.Errorf("Message = %q, %q; want %q, %q", msg, field, tt.msg, tt.field)
			}
			if tt.err.Error() != tt.errorStr {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.errorStr)
			}
		})
	}
	if !errors.Is(Wrap(Internal, cause, "x"), cause) {
		t.Error("Wrap does not unwrap to its cause")
	}
	if Kind(99).String() != "internal" || OutOfScope.String() != "out_of_scope" {
		t.Error("Kind.String codes changed")
	}
}
