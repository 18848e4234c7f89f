package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/lab/weblab"
)

// TestBrowser drives headless Chromium through the dashboard over TLS: sign in with a
// one-time code, see the tree, open a system, accept a finding's risk, switch to English,
// sign out, and saves a screenshot in the test's temporary directory. Chromium talks only to
// the loopback test server, through the DevTools protocol over a minimal WebSocket client.
func TestBrowser(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
		}
		t.Skip("chromium is not installed (apt-get install chromium); skipping the browser test")
	}
	tp := newTwoProvinces(t)
	ca, err := weblab.NewCA("Khiên browser CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("localhost")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeListener(sctx, testLog(t), tls.NewListener(ln, TLSConfig(cert)), tp.srv) }()
	t.Cleanup(func() { stop(); <-served })
	base := "https://" + ln.Addr().String()

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--ignore-certificate-errors", "--user-data-dir="+filepath.Join(dir, "profile"), "--remote-debugging-port=0",
		"--window-size=1366,768", "about:blank")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var wsURL string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile(filepath.Join(dir, "profile", "DevToolsActivePort"))
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); err == nil && len(lines) == 2 {
			wsURL = "ws://127.0.0.1:" + lines[0] + lines[1]
			break
		}
	}
	if wsURL == "" {
		t.Fatal("chromium did not open its DevTools port")
	}
	cdp := dialCDP(t, wsURL)
	defer cdp.conn.Close()
	var target struct{ TargetID string }
	cdp.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	cdp.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	s := att.SessionID
	cdp.call(t, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": false}, nil)

	eval := func(js string) string {
		t.Helper()
		var out struct {
			Result struct {
				Value any `json:"value"`
			} `json:"result"`
			ExceptionDetails any `json:"exceptionDetails"`
		}
		cdp.call(t, s, "Runtime.evaluate", map[string]any{"expression": js, "returnByValue": true}, &out)
		if out.ExceptionDetails != nil {
			t.Fatalf("evaluate %s: %v", js, out.ExceptionDetails)
		}
		return fmt.Sprint(out.Result.Value)
	}
	// waitFor polls until js is true after a navigation or a submitted form.
	waitFor := func(what, js string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if eval("document.readyState === 'complete' && ("+js+")") == "true" {
				return
			}
		}
		t.Fatalf("%s: timed out; page is %s:\n%s", what, eval("location.href"), eval("document.body ? document.body.innerText : ''"))
	}

	cdp.call(t, s, "Page.navigate", map[string]any{"url": base + "/"}, nil)
	waitFor("the sign-in page", "location.pathname === '/login' && !!document.querySelector('#totp')")
	tp.clock = tp.clock.Add(30 * time.Second)
	code, err := auth.TOTP(tp.totp["hn-admin"], tp.clock)
	if err != nil {
		t.Fatal(err)
	}
	eval(fmt.Sprintf(`document.querySelector('#login').value = %q; document.querySelector('#password').value = %q;
		document.querySelector('#totp').value = %q; document.querySelector('#sign-in').click(); true`, "hn-admin", tp.password, code))
	waitFor("the tree after signing in", "!!document.querySelector('#org-tree')")
	if got := eval("document.querySelector('#org-tree').innerText"); !strings.Contains(got, "HN.STTTT") || strings.Contains(got, "DN") {
		t.Errorf("the tree shows %q", got)
	}

	eval(`location.href = '/systems/hn-portal'; true`)
	waitFor("the system page", "!!document.querySelector('#system-name')")
	eval(`const f = document.querySelector('form.accept'); f.querySelector('[name=reason]').value = 'Chờ nâng cấp máy chủ trong quý tới'; f.querySelector('button').click(); true`)
	waitFor("the accepted risk", "!!document.querySelector('.flash')")
	if got := eval("document.body.innerText"); !strings.Contains(got, "Đã chấp nhận rủi ro") {
		t.Errorf("after accepting, the system page shows:\n%s", got)
	}

	eval(`document.querySelector('#lang-switch').click(); true`)
	waitFor("English", "document.documentElement.lang === 'en'")
	if got := eval("document.body.innerText"); !strings.Contains(got, "Risk accepted") || !strings.Contains(got, "Sign out") {
		t.Errorf("in English the page shows:\n%s", got)
	}
	var shot struct{ Data string }
	cdp.call(t, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) < 1000 {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	shotPath := filepath.Join(t.TempDir(), "system-en.png")
	if err := os.WriteFile(shotPath, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shotPath)

	shots := dir
	if d := os.Getenv("KHIEN_SCREENSHOTS"); d != "" { // to look at the pages after the test
		shots = d
	}
	checkWidths(t, cdp, s, eval, waitFor, shots)

	eval(`document.querySelector('#sign-out').click(); true`)
	waitFor("signed out", "location.pathname === '/login'")
	eval(`location.href = '/systems/hn-portal'; true`)
	waitFor("a page after signing out", "location.pathname === '/login'")

	// The sign-in page fits a phone too.
	cdp.call(t, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 375, "height": 667, "deviceScaleFactor": 1, "mobile": true}, nil)
	eval(`window.khienOld = true; location.reload(); true`)
	waitFor("the sign-in page on a phone", "!window.khienOld && !!document.querySelector('#login')")
	if got := eval(`document.documentElement.scrollWidth + ' ' + window.innerWidth`); got != "375 375" {
		t.Errorf("on a phone the sign-in page is %s px wide (document, window)", got)
	}
}

// browserPages are the main pages, each with an element only it has.
var browserPages = []struct{ name, path, ready string }{
	{"tree", "/", "#org-tree"},
	{"org", "/orgs/HN", "#org-name"},
	{"system", "/systems/hn-portal", "#system-name"},
	{"findings", "/findings", "#total"},
	{"audit", "/audit", "#audit-filter"},
	{"users", "/users", "#user-add"},
	{"tokens", "/tokens", "#token-add"},
}

// checkWidths loads every main page at a phone's width (375×667) and a laptop's (1366×768):
// the document must not be wider than the window (wide tables scroll in their own box), and
// on the phone the navigation folds behind its menu button. A screenshot of each is saved in
// dir.
func checkWidths(t *testing.T, cdp *cdpConn, s string, eval func(string) string, waitFor func(what, js string), dir string) {
	t.Helper()
	for _, vp := range []struct {
		name          string
		width, height int
		mobile        bool
	}{{"phone", 375, 667, true}, {"laptop", 1366, 768, false}} {
		cdp.call(t, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": vp.width, "height": vp.height,
			"deviceScaleFactor": 1, "mobile": vp.mobile}, nil)
		for _, pg := range browserPages {
			eval(`window.khienOld = true; location.href = '` + pg.path + `'; true`)
			waitFor(vp.name+" "+pg.name, `!window.khienOld && !!document.querySelector('`+pg.ready+`')`)
			var scroll, inner int
			if _, err := fmt.Sscan(eval(`document.documentElement.scrollWidth + ' ' + window.innerWidth`), &scroll, &inner); err != nil {
				t.Fatal(err)
			}
			if inner != vp.width || scroll > inner {
				t.Errorf("%s %s: the document is %d px wide in a window of %d (want %d)", vp.name, pg.path, scroll, inner, vp.width)
			}
			var shot struct{ Data string }
			cdp.call(t, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
			png, err := base64.StdEncoding.DecodeString(shot.Data)
			if err != nil || len(png) < 1000 {
				t.Fatalf("screenshot of %s: %d bytes, %v", pg.path, len(png), err)
			}
			if err := os.WriteFile(filepath.Join(dir, vp.name+"-"+pg.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		nav := `getComputedStyle(document.querySelector('header.top nav')).display`
		eval(`window.khienOld = true; location.href = '/'; true`)
		waitFor(vp.name+" navigation", `!window.khienOld && !!document.querySelector('#org-tree')`)
		if vp.mobile {
			if got := eval(nav); got != "none" {
				t.Errorf("on a phone the navigation shows before the menu is opened (display %s)", got)
			}
			eval(`document.querySelector('.nav-button').click(); true`)
			if got := eval(nav); got != "flex" {
				t.Errorf("on a phone the menu button does not open the navigation (display %s)", got)
			}
		} else if got := eval(nav); got != "flex" {
			t.Errorf("on a laptop the navigation is folded (display %s)", got)
		}
	}
	t.Logf("screenshots of every page at both widths: %s", dir)
}

// cdpConn is a DevTools protocol connection over a minimal RFC 6455 client: text frames,
// masked from the client, no extensions.
type cdpConn struct {
	conn net.Conn
	rd   *bufio.Reader
	seq  int
}

func dialCDP(t *testing.T, wsURL string) *cdpConn {
	t.Helper()
	rest := strings.TrimPrefix(wsURL, "ws://")
	host, path, _ := strings.Cut(rest, "/")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 16)
	rand.Read(key)
	fmt.Fprintf(conn, "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		path, host, base64.StdEncoding.EncodeToString(key))
	rd := bufio.NewReader(conn)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("websocket upgrade: %v %v", resp, err)
	}
	return &cdpConn{conn: conn, rd: rd}
}

// call sends one command and waits for its answer, skipping events.
func (c *cdpConn) call(t *testing.T, session, method string, params any, out any) {
	t.Helper()
	// An evaluation that meets a navigation committing (a form posted a moment ago, a reload)
	// is refused by the browser; it is asked again in the new document, a few times at most.
	for attempt := 0; ; attempt++ {
		msg, err := c.try(t, session, method, params, out)
		if err == nil {
			return
		}
		if msg == "" || !strings.Contains(msg, "navigated or closed") || attempt == 4 {
			t.Fatalf("%s: %v", method, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// try sends one command and waits for its answer; a refusal by the browser comes back as its
// message and an error, anything else that goes wrong as an error alone.
func (c *cdpConn) try(t *testing.T, session, method string, params any, out any) (string, error) {
	t.Helper()
	c.seq++
	msg := map[string]any{"id": c.seq, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := c.write(b); err != nil {
		return "", err
	}
	for {
		data, err := c.read()
		if err != nil {
			return "", err
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &resp) != nil || resp.ID != c.seq {
			continue
		}
		if resp.Error != nil {
			return resp.Error.Message, errors.New(resp.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(resp.Result, out); err != nil {
				return "", err
			}
		}
		return "", nil
	}
}

func (c *cdpConn) write(p []byte) error {
	hdr := []byte{0x81} // FIN, text
	switch n := len(p); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	mask := make([]byte, 4)
	rand.Read(mask)
	hdr = append(hdr, mask...)
	masked := make([]byte, len(p))
	for i := range p {
		masked[i] = p[i] ^ mask[i%4]
	}
	_, err := c.conn.Write(append(hdr, masked...))
	return err
}

// read returns the next message, joining fragments and answering pings.
func (c *cdpConn) read() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.rd, h[:]); err != nil {
			return nil, err
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.rd, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.rd, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 64<<20 {
			return nil, fmt.Errorf("frame of %d bytes", n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.rd, payload); err != nil {
			return nil, err
		}
		switch op := h[0] & 0x0f; op {
		case 0x8:
			return nil, io.EOF
		case 0x9, 0xA: // ping, pong: the browser does not ping its clients in practice
			continue
		default:
			msg = append(msg, payload...)
		}
		if h[0]&0x80 != 0 {
			return msg, nil
		}
	}
}
