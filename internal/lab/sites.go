package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/exposurelab"
)

// layout wraps a page of the lab's portals.
func layout(title, body string) string {
	return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>` + title + ` – Cổng thông tin điện tử (phòng thí nghiệm Khiên)</title>
<link rel="stylesheet" href="/static/site.css">
<script src="/static/site.js" defer></script>
</head><body>
<header><a href="/"><img src="/static/quoc-huy.png" alt="Quốc huy"></a>
<nav><a href="/gioi-thieu">Giới thiệu</a> <a href="/tin-tuc">Tin tức</a> <a href="/van-ban">Văn bản</a> <a href="/lien-he">Liên hệ</a></nav></header>
<main>
` + body + `
</main>
<footer><p>Cơ quan chủ quản: Ủy ban nhân dân tỉnh (phòng thí nghiệm). Thư điện tử: vanthu@lab.khien.test.</p></footer>
</body></html>
`
}

// typicalSite is the typical agency portal: a home page and four pages linked from every
// page, a real 404 for anything else (so nothing is exposed), and no security.txt.
func typicalSite() http.Handler {
	pages := map[string]string{
		"/":           layout("Trang chủ", "<h1>Tin tức – sự kiện</h1>\n<p>Hội nghị triển khai chuyển đổi số năm 2026.</p>"),
		"/gioi-thieu": layout("Giới thiệu", "<h1>Giới thiệu</h1>\n<p>Chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức.</p>"),
		"/tin-tuc":    layout("Tin tức", "<h1>Tin tức</h1>\n<ul><li><a href=\"/tin-tuc\">Tổng kết công tác năm 2025</a></li></ul>"),
		"/van-ban":    layout("Văn bản", "<h1>Văn bản chỉ đạo, điều hành</h1>\n<p>Quyết định số 12/QĐ-UBND về kế hoạch chuyển đổi số.</p>"),
		"/lien-he":    layout("Liên hệ", "<h1>Liên hệ</h1>\n<p>Bộ phận một cửa, số 1 đường Trần Phú.</p>"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	})
}

// badHome is the old portal's home page: scripts, a style sheet and a frame over plain HTTP
// (active mixed content) and a link into a directory the server lists.
var badHome = layout("Trang chủ", `<h1>Cổng thông tin (phiên bản cũ)</h1>
<link rel="stylesheet" href="http://cdn.lab.khien.test/site.css">
<script src="http://cdn.lab.khien.test/jquery-1.12.4.min.js"></script>
<iframe src="http://maps.lab.khien.test/"></iframe>
<p>Báo cáo năm 2024: <a href="/tai-lieu/bao-cao.pdf">tải về</a>.</p>`)

// exposedSite is the old portal: badHome at the root, and exposurelab's leaking site (.git,
// .env, a SQL dump, a directory listing, phpMyAdmin) everywhere else.
func exposedSite() http.Handler {
	leaks := exposurelab.ExposedSite()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(badHome))
			return
		}
		leaks.ServeHTTP(w, r)
	})
}

const databasePage = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Máy chủ cơ sở dữ liệu</title></head>
<body><h1>Máy chủ cơ sở dữ liệu dùng chung</h1><p>Trang nội bộ.</p></body></html>
`

const cameraPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>IP Camera</title></head>
<body><h1>Network Camera</h1>
<form method="post" action="/login.cgi"><input name="user"><input type="password" name="pass"><input type="submit" value="Login"></form>
</body></html>
`

// traversalProbe is the path of the CVE-2021-41773 confirmer (see vulncheck): the old
// portal answers it as an unpatched Apache 2.4.49 with mod_cgi off does.
const traversalProbe = "/icons/.%2e/%2e%2e/"

// middleware answers, ahead of redirects and on both schemes, the HTTP ownership challenge
// of any name or address the host serves, and on the old portal the path traversal of
// CVE-2021-41773.
func (l *Lab) middleware(traversal bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == inventory.ChallengePath {
				l.mu.Lock()
				token, ok := l.tokens[hostOf(r.Host)]
				l.mu.Unlock()
				if ok {
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					fmt.Fprintln(w, token)
					return
				}
			}
			if traversal && strings.HasPrefix(r.URL.EscapedPath(), traversalProbe) {
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprint(w, "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// startBanner listens on ap and greets every connection with banner (an SSH server's first
// line), then waits for the client's line or its hang-up.
func startBanner(ctx context.Context, ap netip.AddrPort, banner string) (func() error, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", ap.String())
	if err != nil {
		return nil, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // out of descriptors: let some close
				continue
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					c.Close()
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
				}()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				_, _ = c.Write([]byte(banner + "\r\n"))
				_, _ = bufio.NewReader(c).ReadString('\n')
			})
		}
	})
	var once sync.Once
	var closeErr error
	return func() error {
		once.Do(func() {
			closeErr = ln.Close()
			mu.Lock()
			for c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
		return closeErr
	}, nil
}
