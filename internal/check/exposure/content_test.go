package exposure

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/inventory"
)

func TestSignature(t *testing.T) {
	tarHeader := make([]byte, 512)
	copy(tarHeader, "site/index.php")
	copy(tarHeader[257:], "ustar\x0000")
	tests := []struct {
		name string
		kind kind
		path string
		r    response
		want string // substring of the signature; "" means none
	}{
		{"HEAD ref", kindGit, "/.git/HEAD", resp(200, "", "ref: refs/heads/main\n"), "ref: refs/heads/main"},
		{"HEAD detached", kindGit, "/.git/HEAD", resp(200, "", strings.Repeat("ab", 20)+"\n"), strings.Repeat("ab", 20)},
		{"HEAD html", kindGit, "/.git/HEAD", resp(200, "text/html", "<html>ref: refs/heads/main</html>"), ""},
		{"HEAD 403", kindGit, "/.git/HEAD", resp(403, "", "ref: refs/heads/main\n"), ""},
		{"config", kindGit, "/.git/config", resp(200, "", "[core]\n\tbare = false\n"), "[core]"},
		{"config in prose", kindGit, "/.git/config", resp(200, "", "see the [core] section"), ""},
		{"env", kindEnv, "/.env", resp(200, "", "# app\nAPP_ENV=prod\nexport DB_PASSWORD=x\n"), "APP_ENV= DB_PASSWORD="},
		{"env one line", kindEnv, "/.env", resp(200, "", "APP_ENV=prod\n"), ""},
		{"env lower case", kindEnv, "/.env", resp(200, "", "app_env=prod\ndb=x\n"), ""},
		{"env html", kindEnv, "/.env", resp(200, "text/html", soft404), ""},
		{"php backup", kindEnv, "/wp-config.php~", resp(200, "", "<?php\ndefine('DB_NAME', 'wp');\n"), "<?php"},
		{"mysql dump", kindBackup, "/backup.sql", resp(200, "", "-- MySQL dump 10.13\n"), "-- MySQL dump"},
		{"postgres dump", kindBackup, "/db.sql", resp(206, "", "--\n-- PostgreSQL database dump\n--\n"), "PostgreSQL"},
		{"bare sql", kindBackup, "/db.sql", resp(200, "", "SET NAMES utf8;\n  create table t (id int);\n"), "CREATE TABLE"},
		{"sql in html", kindBackup, "/db.sql", resp(200, "text/html", "<html><pre>\nCREATE TABLE t</pre></html>"), ""},
		{"zip", kindBackup, "/backup.zip", resp(200, "", "PK\x03\x04\x14\x00"), "ZIP"},
		{"gzip", kindBackup, "/dump.sql.gz", resp(200, "", "\x1f\x8b\x08\x00"), "gzip"},
		{"tar", kindBackup, "/site.tar", resp(200, "", string(tarHeader)), "tar"},
		{"bzip2 needs a level", kindBackup, "/b.bz2", resp(200, "", "BZhx"), ""},
		{"backup 404", kindBackup, "/backup.zip", resp(404, "", "PK\x03\x04"), ""},
		{"apache listing", kindListing, "/uploads/", resp(200, "", "<html><head><title>Index of /uploads</title>"), "Index of /"},
		{"python listing", kindListing, "/", resp(200, "", "<h1>Directory listing for /</h1>"), "Directory listing for"},
		{"iis listing", kindListing, "/files/", resp(200, "", `<A HREF="/">[To Parent Directory]</A>`), "To Parent Directory"},
		{"ordinary page", kindListing, "/", resp(200, "", soft404), ""},
		{"phpmyadmin", kindAdmin, "/phpmyadmin/", resp(200, "", `<title>phpMyAdmin</title><input name="pma_username">`), "phpMyAdmin"},
		{"server-status", kindAdmin, "/server-status", resp(200, "", "<h1>Apache Server Status for cong.example (via 10.0.0.1)</h1>"), "mod_status"},
		{"wordpress login", kindAdmin, "/wp-login.php", resp(200, "", `<form name="loginform" id="loginform" action="https://x/wp-login.php"><input name="pwd">`), "WordPress"},
		{"wordpress redirect", kindAdmin, "/wp-admin/", response{Status: 302, Location: "https://x/wp-login.php?redirect_to=%2Fwp-admin%2F"}, "wp-login.php"},
		{"joomla", kindAdmin, "/administrator/", resp(200, "", `<input type="hidden" name="option" value="com_login">`), "Joomla"},
		{"tomcat 401", kindAdmin, "/manager/html", response{Status: 401, Authenticate: `Basic realm="Tomcat Manager Application"`}, "Tomcat"},
		{"tomcat 403", kindAdmin, "/manager/html", resp(403, "", "403 Access Denied. By default the Manager is only accessible from localhost"), ""},
		{"admin 404", kindAdmin, "/phpmyadmin/", resp(404, "", `<title>phpMyAdmin</title>`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := signature(tt.kind, tt.path, tt.r)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("signature(%s) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestDecodeGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("-- MySQL dump 10.13\n"))
	zw.Close()
	if got := decode("gzip", buf.Bytes()); !bytes.HasPrefix(got, []byte("-- MySQL dump")) {
		t.Errorf("decode(gzip) = %q", got)
	}
	if got := decode("gzip", []byte("not gzip")); string(got) != "not gzip" {
		t.Errorf("decode(bad gzip) = %q, want the bytes unchanged", got)
	}
}

func TestLinkedDirs(t *testing.T) {
	page := resp(200, "text/html", `<link href="/static/css/a.css"><script src="js/app.js"></script>
<a href="https://other.example/files/x.pdf">x</a><a href="/tai-lieu/bao-cao.pdf">r</a><a href="/">home</a>
<a href="/static/css/b.css">again</a><img src="//cong.example/anh/logo.png"><a href="mailto:a@b">m</a>`)
	got := linkedDirs(page, "https://cong.example")
	want := []string{"/static/css/", "/js/", "/tai-lieu/", "/anh/"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("linkedDirs = %v, want %v", got, want)
	}
}

func TestBaseDir(t *testing.T) {
	for in, want := range map[string]string{"": "/", "/": "/", "/app": "/", "/app/": "/app/", "/app/index.php": "/app/", "/a/../b/c": "/b/"} {
		if got := baseDir(in); got != want {
			t.Errorf("baseDir(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestApplies(t *testing.T) {
	for id, want := range map[string]bool{
		"dns:cong.example": true, "ip:192.0.2.1": true, "url:https://cong.example/": true,
		"cidr:192.0.2.0/28": false, "dns:_dmarc.cong.example": false, "dns:*.cong.example": false, "db:hoso": false,
	} {
		if got := applies(inventory.Resource{ID: id}); got != want {
			t.Errorf("applies(%s) = %v, want %v", id, got, want)
		}
	}
}

func TestOptions(t *testing.T) {
	o := Options{Ports: map[string][]int{MySQL: {3306, 0, 70000, 13306}, Redis: {}}, Concurrency: 50}
	tests := []struct {
		proto string
		want  string
	}{
		{MySQL, "[3306 13306]"},
		{Redis, "[]"},
		{PostgreSQL, "[5432]"},
		{HTTPS, "[443]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(o.ports(tt.proto)); got != tt.want {
			t.Errorf("ports(%s) = %s, want %s", tt.proto, got, tt.want)
		}
	}
	if o.concurrency() != MaxConcurrency || (Options{Concurrency: 2}).concurrency() != 2 {
		t.Errorf("concurrency is not capped at %d", MaxConcurrency)
	}
}
