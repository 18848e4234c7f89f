package exposurelab

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

// The exposed site's leaked files. The secrets are lab placeholders.
const (
	gitHEAD   = "ref: refs/heads/main\n"
	gitConfig = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n" +
		"[remote \"origin\"]\n\turl = git@git.lab.khien.test:so-ttt/cong-thong-tin.git\n"
	dotEnv = "APP_ENV=production\nAPP_KEY=base64:lab-placeholder-not-a-secret\nDB_HOST=10.0.0.5\n" +
		"DB_DATABASE=congthongtin\nDB_USERNAME=web\nDB_PASSWORD=lab-placeholder\n"
	sqlDump = "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n-- Host: localhost    Database: congthongtin\n" +
		"-- ------------------------------------------------------\n\nCREATE TABLE `nguoi_dung` (\n  `id` int NOT NULL,\n" +
		"  `ho_ten` varchar(255) NOT NULL\n) ENGINE=InnoDB;\n\nINSERT INTO `nguoi_dung` VALUES (1,'Nguyễn Văn A');\n"
	listing = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of /tai-lieu</title>
 </head>
 <body>
<h1>Index of /tai-lieu</h1>
<pre><a href="?C=N;O=D">Name</a>  <a href="?C=M;O=A">Last modified</a>  <a href="?C=S;O=A">Size</a><hr><a href="/">Parent Directory</a>
<a href="bao-cao.pdf">bao-cao.pdf</a>   2025-01-10 08:12  120K
<a href="danh-sach-can-bo.xlsx">danh-sach-can-bo.xlsx</a>   2025-01-12 10:40   48K
<hr></pre>
<address>Apache/2.4.58 (Ubuntu) Server at cong.lab.khien.test Port 80</address>
</body></html>
`
	phpMyAdmin = `<!DOCTYPE HTML>
<html lang="en" dir="ltr">
<head>
  <meta charset="utf-8">
  <title>phpMyAdmin</title>
  <link rel="stylesheet" type="text/css" href="./themes/pmahomme/css/theme.css">
</head>
<body id="loginform">
<div class="container">
  <h1>Welcome to <bdo dir="ltr" lang="en">phpMyAdmin</bdo></h1>
  <form method="post" id="login_form" action="index.php?route=/" name="login_form" class="disableAjax">
    <input type="text" name="pma_username" id="input_username" value="" autocomplete="username">
    <input type="password" name="pma_password" id="input_password" value="" autocomplete="current-password">
    <input type="submit" value="Log in" id="input_go">
  </form>
</div>
</body>
</html>
`
)

// page wraps a body in the agency portal's template, which both sites share.
func page(title, body string) string {
	return `<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>` + html.EscapeString(title) + ` – Cổng thông tin điện tử Sở Thông tin và Truyền thông</title>
<link rel="stylesheet" href="/static/css/site.css">
<script src="/static/js/site.js" defer></script>
</head>
<body>
<header><a href="/"><img src="/static/img/quoc-huy.png" alt="Quốc huy"></a>
<nav><a href="/gioi-thieu">Giới thiệu</a> <a href="/tin-tuc">Tin tức</a> <a href="/van-ban">Văn bản</a>
<a href="/dich-vu-cong">Dịch vụ công</a> <a href="/lien-he">Liên hệ</a></nav></header>
<main>
` + body + `
</main>
<footer><p>Cơ quan chủ quản: Ủy ban nhân dân tỉnh. Địa chỉ: số 1 đường Trần Phú, phường Điện Biên.</p>
<p>Điện thoại: 0243 000 0000. Thư điện tử: vanthu@lab.khien.test. Ghi rõ nguồn khi phát hành lại thông tin từ trang này.</p></footer>
</body>
</html>
`
}

var homePage = page("Trang chủ", `<h1>Tin tức – sự kiện</h1>
<p>Hội nghị triển khai chuyển đổi số năm 2025. <a href="/tai-lieu/bao-cao.pdf">Tải báo cáo</a>.</p>`)

// file serves content with Range support, as a static file server would.
func file(name, contentType, content string) http.HandlerFunc {
	mod := time.Date(2025, 1, 10, 8, 12, 0, 0, time.UTC)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		http.ServeContent(w, r, name, mod, strings.NewReader(content))
	}
}

// ExposedSite is a portal that leaks what careless deployments leak: /.git/HEAD and
// /.git/config, /.env, a MySQL dump at /backup.sql, an Apache directory listing at
// /tai-lieu/ (linked from the home page), and a phpMyAdmin login at /phpmyadmin/. It has no
// security.txt, and answers a real 404 for anything else. Every check of the exposure
// family's web half fails on it.
func ExposedSite() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", file("index.html", "text/html; charset=utf-8", homePage))
	mux.HandleFunc("GET /.git/HEAD", file("HEAD", "application/octet-stream", gitHEAD))
	mux.HandleFunc("GET /.git/config", file("config", "application/octet-stream", gitConfig))
	mux.HandleFunc("GET /.env", file(".env", "application/octet-stream", dotEnv))
	mux.HandleFunc("GET /backup.sql", file("backup.sql", "application/sql", sqlDump))
	mux.HandleFunc("GET /tai-lieu/{$}", file("index.html", "text/html;charset=UTF-8", listing))
	mux.HandleFunc("GET /tai-lieu/bao-cao.pdf", file("bao-cao.pdf", "application/pdf", "%PDF-1.7\n%lab\n"))
	mux.HandleFunc("GET /phpmyadmin/{$}", file("index.php", "text/html; charset=utf-8", phpMyAdmin))
	return mux
}

// CleanSite is a portal that leaks nothing but answers 200 with its "page not found" page,
// which echoes the path asked for, for every path but the home page, so a scanner that trusts
// status codes reports every file as exposed. It serves a valid /.well-known/security.txt
// that expires a year after now(). Every check of the exposure family's web half passes on it.
func CleanSite(now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", file("index.html", "text/html; charset=utf-8", homePage))
	mux.HandleFunc("GET /.well-known/security.txt", func(w http.ResponseWriter, r *http.Request) {
		body := fmt.Sprintf("# Báo cáo lỗ hổng bảo mật cho Sở Thông tin và Truyền thông\n"+
			"Contact: mailto:security@lab.khien.test\nContact: tel:+84-24-0000-0000\n"+
			"Expires: %s\nPreferred-Languages: vi, en\n"+
			"Canonical: https://cong.lab.khien.test/.well-known/security.txt\n",
			now().UTC().AddDate(1, 0, 0).Truncate(time.Second).Format(time.RFC3339))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeContent(w, r, "security.txt", time.Time{}, bytes.NewReader([]byte(body)))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, page("Không tìm thấy trang", `<h1>Không tìm thấy trang</h1>
<p>Trang <code>`+html.EscapeString(r.URL.Path)+`</code> không tồn tại hoặc đã được chuyển đi.</p>
<p><a href="/">Quay về trang chủ</a></p>`))
	})
	return mux
}
