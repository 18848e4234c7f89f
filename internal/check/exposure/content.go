package exposure

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Content signatures. Each recognizer looks at the first bytes of one answer and says what in
// them shows the real thing, or "" when nothing does. None of them returns a secret: an .env
// hit names its variables, never their values.

// ok2xx is the status of a file that was served: whole, or the range asked for.
func ok2xx(status int) bool {
	return status == http.StatusOK || status == http.StatusPartialContent
}

// head is the first KiB of b, where dump headers and SQL statements are looked for.
func head(b []byte) []byte {
	if len(b) > 1024 {
		return b[:1024]
	}
	return b
}

// looksHTML reports whether b starts like a markup document rather than a file's own bytes.
func looksHTML(b []byte) bool {
	b = bytes.TrimLeft(b, "\xef\xbb\xbf \t\r\n")
	return len(b) > 0 && b[0] == '<' && !bytes.HasPrefix(b, []byte("<?php"))
}

// signature dispatches to the recognizers of kind k.
func signature(k kind, p string, r response) string {
	switch k {
	case kindGit:
		return gitSignature(p, r)
	case kindEnv:
		return envSignature(r)
	case kindBackup:
		return backupSignature(r)
	case kindListing:
		return listingSignature(r)
	case kindAdmin:
		return adminSignature(r)
	}
	return ""
}

var (
	gitRefLine  = regexp.MustCompile(`^ref: refs/[\x21-\x7e]+$`)
	gitObjectID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
)

// gitSignature recognizes .git/HEAD (a "ref: refs/heads/…" line, or a detached commit id)
// and .git/config (a "[core]" section).
func gitSignature(p string, r response) string {
	if !ok2xx(r.Status) {
		return ""
	}
	if strings.HasSuffix(p, "HEAD") {
		line, _, _ := strings.Cut(string(head(r.Body)), "\n")
		line = strings.TrimSpace(line)
		if gitRefLine.MatchString(line) || gitObjectID.MatchString(line) {
			return line
		}
		return ""
	}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if strings.TrimSpace(line) == "[core]" {
			return "[core]"
		}
	}
	return ""
}

var envLine = regexp.MustCompile(`^(?:export[ \t]+)?([A-Z_][A-Z0-9_]*)=`)

// envSignature recognizes an environment file (at least two KEY=value lines) or a PHP
// configuration file served as source.
func envSignature(r response) string {
	if !ok2xx(r.Status) {
		return ""
	}
	if names := envNames(r.Body); len(names) >= 2 {
		for i := range names {
			names[i] += "="
		}
		return strings.Join(firstN(names, 6), " ")
	}
	if bytes.Contains(head(r.Body), []byte("<?php")) {
		return "<?php"
	}
	return ""
}

// envNames returns the variable names of b's KEY=value lines, in order.
func envNames(b []byte) []string {
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if m := envLine.FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// dumpHeaders start the files database tools write.
var dumpHeaders = []struct{ prefix, what string }{
	{"-- MySQL dump", "-- MySQL dump"},
	{"-- MariaDB dump", "-- MariaDB dump"},
	{"-- PostgreSQL database dump", "-- PostgreSQL database dump"},
	{"PGDMP", "PGDMP (pg_dump)"},
	{"SQLite format 3\x00", "SQLite format 3"},
}

// magic are the first bytes of archive and compressed formats.
var magic = []struct {
	offset int
	bytes  string
	what   string
}{
	{0, "PK\x03\x04", "ZIP (PK 03 04)"},
	{0, "PK\x05\x06", "ZIP (PK 05 06)"},
	{0, "\x1f\x8b", "gzip (1f 8b)"},
	{257, "ustar", "tar (ustar)"},
	{0, "BZh", "bzip2 (BZh)"},
	{0, "\xfd7zXZ\x00", "xz (fd 37 7a 58 5a 00)"},
	{0, "7z\xbc\xaf\x27\x1c", "7-Zip (37 7a bc af 27 1c)"},
	{0, "Rar!\x1a\x07", "RAR (Rar!)"},
}

var sqlStatement = regexp.MustCompile(`(?im)^\s*(CREATE TABLE|INSERT INTO)\b`)

// backupSignature recognizes database dumps (tool headers, or SQL statements in the first KiB
// of a non-HTML body) and archives by their magic bytes.
func backupSignature(r response) string {
	if !ok2xx(r.Status) {
		return ""
	}
	b := r.Body
	for _, m := range magic {
		if len(b) >= m.offset+len(m.bytes) && string(b[m.offset:m.offset+len(m.bytes)]) == m.bytes {
			if m.bytes == "BZh" && (len(b) < 4 || b[3] < '1' || b[3] > '9') {
				continue
			}
			return m.what
		}
	}
	h := head(b)
	for _, d := range dumpHeaders {
		if bytes.Contains(h, []byte(d.prefix)) {
			return d.what
		}
	}
	if !looksHTML(b) {
		if m := sqlStatement.Find(h); m != nil {
			return strings.ToUpper(strings.TrimSpace(string(m)))
		}
	}
	return ""
}

// listingMarkers are what Apache, nginx, lighttpd, IIS, Tomcat and Python's http.server put
// in an automatic index page.
var listingMarkers = []struct{ marker, what string }{
	{"<title>index of /", "<title>Index of /"},
	{"<h1>index of /", "<h1>Index of /"},
	{"directory listing for", "Directory listing for"},
	{"[to parent directory]", "[To Parent Directory]"},
}

func listingSignature(r response) string {
	if !ok2xx(r.Status) {
		return ""
	}
	lower := bytes.ToLower(r.Body)
	for _, m := range listingMarkers {
		if bytes.Contains(lower, []byte(m.marker)) {
			return m.what
		}
	}
	return ""
}

// adminSignature recognizes the login or status pages of the administration interfaces most
// often left open: phpMyAdmin, Apache mod_status, WordPress, Joomla and Tomcat Manager.
func adminSignature(r response) string {
	lower := bytes.ToLower(r.Body)
	has := func(s string) bool { return bytes.Contains(lower, []byte(s)) }
	switch {
	case r.Status == http.StatusUnauthorized && strings.Contains(r.Authenticate, "Tomcat Manager Application"):
		return `Tomcat Manager: 401 realm "Tomcat Manager Application"`
	case r.Status >= 300 && r.Status < 400 && strings.Contains(r.Location, "wp-login.php"):
		return "WordPress: " + strconv.Itoa(r.Status) + " → wp-login.php"
	case !ok2xx(r.Status):
		return ""
	case has("<title>phpmyadmin") || has(`name="pma_username"`):
		return "phpMyAdmin: pma_username"
	case has("apache server status for") || has("<title>apache status</title>"):
		return "Apache mod_status: Apache Server Status"
	case has("wp-login.php") && (has(`id="loginform"`) || has(`name="pwd"`)):
		return "WordPress: wp-login.php loginform"
	case has(`value="com_login"`) || (has("joomla") && has(`name="passwd"`)):
		return "Joomla: com_login"
	case has("tomcat web application manager"):
		return "Tomcat Web Application Manager"
	}
	return ""
}

// securityTxt is what a security.txt file (RFC 9116) says.
type securityTxt struct {
	Contacts  []string
	Expires   string // as written
	ExpiresAt time.Time
	Signed    bool // an OpenPGP cleartext signature wraps the fields
	Fields    int
}

// parseSecurityTxt reads the fields of a security.txt; it never fails, it finds what it finds.
func parseSecurityTxt(b []byte) securityTxt {
	var s securityTxt
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "-----BEGIN PGP SIGNED MESSAGE-----":
			s.Signed = true
			continue
		case line == "-----BEGIN PGP SIGNATURE-----":
			return s
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		line = strings.TrimPrefix(line, "- ") // dash-escaped inside a signed message
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			continue
		}
		value = strings.TrimSpace(value)
		s.Fields++
		switch strings.ToLower(name) {
		case "contact":
			if value != "" {
				s.Contacts = append(s.Contacts, value)
			}
		case "expires":
			s.Expires = value
			if t, err := time.Parse(time.RFC3339, value); err == nil {
				s.ExpiresAt = t.UTC()
			}
		}
	}
	return s
}
