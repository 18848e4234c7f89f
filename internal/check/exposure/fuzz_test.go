package exposure

import (
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzRecognize feeds arbitrary bytes to every protocol's recognizer and framing function:
// they read what hostile servers send and must never panic, and whatever they report must
// be printable evidence.
func FuzzRecognize(f *testing.F) {
	seeds := [][]byte{
		[]byte("S"), []byte("N"), pgMessage('R', "\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"),
		pgMessage('E', "SFATAL\x00C28000\x00Mno\x00\x00"),
		mysqlPacket(0, "\x0a8.0.36\x00\x07\x00\x00\x00abcdefgh\x00\xff\xff\xff\x02\x00\xff\xdf\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00ijklmnopqrst\x00caching_sha2_password\x00"),
		mysqlPacket(0, "\xff\x6a\x04Host is not allowed"),
		preloginResponse(16, 0, 1000, 2),
		mongoReply(opMsg, mongoRequestID, append([]byte{0, 0, 0, 0, 0}, bsonDoc(bsonInt32("ok", 1))...)),
		[]byte("+PONG\r\n"), []byte("-NOAUTH Authentication required.\r\n"), []byte("$10\r\nredis_vers\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Length: 35\r\n\r\n{\"tagline\":\"You Know, for Search\"}"),
		[]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
		[]byte("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00"),
		[]byte("\xff\xfb\x01\xff\xfa\x18\x01\xff\xf0login: "), []byte("RFB 003.008\n"), []byte("\x02\x01\x02"),
		append([]byte{0, 0, 0, 0x81}, smb2Response(0x0302, 1)...), httpAnswer, sshBanner,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		p := protocols[int(which)%len(protocols)]
		if d, ok := recognizers[p.name](b); ok {
			for k, v := range d {
				if !utf8.ValidString(v) {
					t.Errorf("%s detail %s = %q is not valid UTF-8", p.name, k, v)
				}
			}
		}
		parseRFBVersion(b)
		parseVNCSecurity(b, which&1 == 0)
		for _, complete := range []func([]byte) bool{
			pgStartupDone, mysqlComplete, tdsComplete, mongoComplete, lineComplete, bulkComplete,
			httpComplete, tpktComplete, vncTypesComplete, netbiosComplete,
		} {
			complete(b)
		}
		redisVersion(b)
		bsonDecode(b, 0)
	})
}

// FuzzSimilarity checks the soft-404 measure's invariants: a share in [0, 1], symmetric,
// 1 for identical bodies.
func FuzzSimilarity(f *testing.F) {
	f.Add([]byte(soft404), []byte("ref: refs/heads/main\n"))
	f.Add([]byte(""), []byte("x"))
	f.Add([]byte("Not found"), []byte("Not found."))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		s := similarity(a, b)
		if math.IsNaN(s) || s < 0 || s > 1 {
			t.Fatalf("similarity = %v, outside [0, 1]", s)
		}
		if r := similarity(b, a); r != s {
			t.Fatalf("similarity not symmetric: %v and %v", s, r)
		}
		if s := similarity(a, a); s != 1 {
			t.Fatalf("similarity(a, a) = %v, want 1", s)
		}
	})
}

// FuzzContent runs the path recognizers, the security.txt parser and the link extractor on
// arbitrary bodies and headers.
func FuzzContent(f *testing.F) {
	f.Add(uint8(kindGit), "/.git/HEAD", 200, "", "", []byte("ref: refs/heads/main\n"))
	f.Add(uint8(kindEnv), "/.env", 206, "", "", []byte("A=1\nB=2\n"))
	f.Add(uint8(kindBackup), "/backup.zip", 200, "", "", []byte("PK\x03\x04"))
	f.Add(uint8(kindListing), "/", 200, "", "", []byte("<title>Index of /</title><a href='/a/b'>"))
	f.Add(uint8(kindAdmin), "/manager/html", 401, `Basic realm="Tomcat Manager Application"`, "", []byte{})
	f.Add(uint8(kindAdmin), "/wp-admin/", 302, "", "https://x/wp-login.php", []byte{})
	f.Add(uint8(kindSecurityTxt), "/.well-known/security.txt", 200, "", "", []byte("Contact: mailto:a@b\nExpires: 2030-01-01T00:00:00Z\n"))
	f.Fuzz(func(t *testing.T, k uint8, path string, status int, auth, location string, body []byte) {
		r := response{Status: status, Authenticate: auth, Location: location, Body: body}
		signature(kind(k%6), path, r)
		parseSecurityTxt(body)
		linkedDirs(r, "https://cong.example")
		decode("gzip", body)
		decode("deflate", body)
	})
}
