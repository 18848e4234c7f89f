package httpcheck

import "strings"

// referrerPolicies are the valid Referrer-Policy tokens (W3C Referrer Policy section 3).
var referrerPolicies = []string{
	"no-referrer", "no-referrer-when-downgrade", "same-origin", "origin", "strict-origin",
	"origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url",
}

// ParseReferrerPolicy returns the policy a browser applies for a Referrer-Policy header value
// (all field values joined with commas): the last token that is a valid policy, lower-cased,
// or "" when there is none (W3C Referrer Policy section 8.1; browsers compare
// case-insensitively). Unknown tokens are skipped, which is how new values stay compatible.
func ParseReferrerPolicy(value string) string {
	policy := ""
	for _, tok := range strings.Split(value, ",") {
		tok = strings.ToLower(strings.Trim(tok, " \t"))
		for _, p := range referrerPolicies {
			if tok == p {
				policy = p
			}
		}
	}
	return policy
}

// metaReferrer returns the policy of a <meta name="referrer" content> value, mapping the
// legacy keywords HTML still accepts there, or "" when the value is not a policy.
func metaReferrer(content string) string {
	switch c := strings.ToLower(strings.Trim(content, asciiSpace)); c {
	case "never":
		return "no-referrer"
	case "default":
		return "strict-origin-when-cross-origin"
	case "always":
		return "unsafe-url"
	case "origin-when-crossorigin":
		return "origin-when-cross-origin"
	default:
		if strings.Contains(c, ",") {
			return ""
		}
		return ParseReferrerPolicy(c)
	}
}

// leaksFullURL reports whether a referrer policy sends the full URL (path and query) to other
// origins: unsafe-url always, no-referrer-when-downgrade to every HTTPS site.
func leaksFullURL(policy string) bool {
	return policy == "unsafe-url" || policy == "no-referrer-when-downgrade"
}
