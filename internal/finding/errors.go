package finding

import "github.com/khien-vn/khien/internal/errs"

var (
	errFixed      = errs.E(errs.Conflict, "the finding is fixed; there is no risk left to accept")
	errNoApprover = errs.Field("approver", "an accepted risk needs a named approver")
	errNoReason   = errs.Field("reason", "an accepted risk needs a reason of at least 10 characters")
	errExpiry     = errs.Field("expires", "the expiry must be in the future")
	errTooLong    = errs.Field("expires", "a risk may be accepted for one year at most; accept it again when it expires")
)
