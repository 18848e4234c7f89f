package exposure

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The first step of ten protocols, each as a handshake (I/O) and a recognizer (a pure parser
// of what came back, fuzzed). A recognizer accepts only what the protocol's own framing says
// is a well-formed answer; any other bytes mean "open, not this protocol".

// exchange writes req (if any), then reads until complete says the answer is whole, the
// peer closes, limit bytes arrived or the timeout passes. What was read is returned even
// when reading stopped on an error: a recognizer may still make sense of it.
func exchange(conn net.Conn, timeout time.Duration, req []byte, limit int, complete func([]byte) bool) ([]byte, error) {
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	if len(req) > 0 {
		if _, err := conn.Write(req); err != nil {
			return nil, err
		}
	}
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if len(buf) >= limit {
			return buf[:limit], nil
		}
		if n > 0 && complete(buf) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func nonEmpty(b []byte) bool { return len(b) > 0 }

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }
func le16(b []byte) int { return int(binary.LittleEndian.Uint16(b)) }
func be24(b []byte) int { return int(b[0])<<16 | int(b[1])<<8 | int(b[2]) }
func le24(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }

// clean turns bytes from the network into a short, printable, valid UTF-8 summary.
func clean(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 120 {
		s = string([]rune(s)[:120]) + "…"
	}
	return s
}

// tlsClient wraps conn in TLS without judging the certificate: the question here is what
// answers, not whether its certificate is good (the tls family asks that).
func tlsClient(s *session, conn net.Conn) (*tls.Conn, error) {
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: s.host, MinVersion: tls.VersionTLS10})
	if err := tc.SetDeadline(time.Now().Add(s.timeout)); err != nil {
		return nil, err
	}
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// --- PostgreSQL -------------------------------------------------------------------------

// pgSSLRequest asks a PostgreSQL server whether it speaks TLS; it answers one byte, 'S' or 'N'.
var pgSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// pgStartup is a protocol 3.0 StartupMessage for user "khien": the server answers with the
// authentication it wants (or an error), which tells whether a password is asked at all.
var pgStartup = func() []byte {
	params := "user\x00khien\x00application_name\x00khien\x00\x00"
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(params)))
	b = binary.BigEndian.AppendUint32(b, 3<<16)
	return append(b, params...)
}()

var pgTerminate = []byte{'X', 0, 0, 0, 4}

func shakePostgres(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, pgSSLRequest, 256, nonEmpty)
	ssl, ok := recognizePGSSLReply(b)
	if !ok {
		// Servers before 7.0 answer an SSLRequest with an ErrorResponse.
		d, ok := parsePGReply(b)
		return d, b, ok
	}
	d := map[string]string{"ssl": "not offered"}
	var c net.Conn = conn
	if ssl {
		d["ssl"] = "offered"
		tc, err := tlsClient(s, conn)
		if err != nil {
			d["tls"] = "handshake failed"
			return d, b, true
		}
		c = tc
	}
	reply, _ := exchange(c, s.timeout, pgStartup, 16<<10, pgStartupDone)
	if m, ok := parsePGReply(reply); ok {
		maps.Copy(d, m)
	}
	_, _ = c.Write(pgTerminate)
	return d, b, true
}

// recognizePGSSLReply accepts the one-byte answer to an SSLRequest.
func recognizePGSSLReply(b []byte) (ssl, ok bool) {
	if len(b) != 1 || (b[0] != 'S' && b[0] != 'N') {
		return false, false
	}
	return b[0] == 'S', true
}

// pgMessages calls f on each whole backend message (type, body) at the start of b until f
// returns false; it reports whether the framing stayed valid.
func pgMessages(b []byte, f func(typ byte, body []byte) bool) bool {
	for len(b) >= 5 {
		n := binary.BigEndian.Uint32(b[1:5])
		if n < 4 || n > 1<<20 {
			return false
		}
		if uint64(len(b)) < 1+uint64(n) {
			return true
		}
		if !f(b[0], b[5:1+n]) {
			return true
		}
		b = b[1+n:]
	}
	return true
}

// pgStartupDone says the answer to the StartupMessage is whole: an error, a request for a
// password, or (trust) everything up to ReadyForQuery.
func pgStartupDone(b []byte) bool {
	done := false
	valid := pgMessages(b, func(typ byte, body []byte) bool {
		switch typ {
		case 'E', 'Z':
			done = true
		case 'R':
			done = len(body) < 4 || binary.BigEndian.Uint32(body) != 0
		}
		return !done
	})
	return done || !valid
}

// parsePGReply recognizes the answer to a StartupMessage: an authentication request or an
// ErrorResponse first, and for trust authentication the server_version that follows.
func parsePGReply(b []byte) (map[string]string, bool) {
	d := map[string]string{}
	ok, first := false, true
	pgMessages(b, func(typ byte, body []byte) bool {
		defer func() { first = false }()
		switch {
		case typ == 'R' && len(body) >= 4:
			d["auth"] = pgAuth(binary.BigEndian.Uint32(body), body[4:])
			ok = true
		case typ == 'E':
			f := pgFields(body)
			if f['C'] == "" || f['M'] == "" {
				return false
			}
			d["error"], d["sqlstate"] = clean([]byte(f['M'])), clean([]byte(f['C']))
			ok = true
		case typ == 'v' && first:
		case typ == 'S' && ok:
			name, val, _ := bytes.Cut(body, []byte{0})
			if string(name) == "server_version" {
				d["version"] = clean(bytes.TrimRight(val, "\x00"))
			}
		case (typ == 'K' || typ == 'N' || typ == 'Z') && ok:
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil, false
	}
	return d, true
}

func pgAuth(code uint32, rest []byte) string {
	switch code {
	case 0:
		return "none (trust): no password asked"
	case 2:
		return "Kerberos V5"
	case 3:
		return "cleartext password"
	case 5:
		return "MD5 password"
	case 7:
		return "GSSAPI"
	case 9:
		return "SSPI"
	case 10:
		var mechs []string
		for m := range bytes.SplitSeq(bytes.TrimRight(rest, "\x00"), []byte{0}) {
			if len(m) > 0 {
				mechs = append(mechs, clean(m))
			}
		}
		return "SASL " + strings.Join(firstN(mechs, 4), " ")
	}
	return fmt.Sprintf("method %d", code)
}

// pgFields splits an ErrorResponse body into its typed fields.
func pgFields(body []byte) map[byte]string {
	f := map[byte]string{}
	for len(body) > 1 && body[0] != 0 {
		t := body[0]
		v, rest, ok := bytes.Cut(body[1:], []byte{0})
		if !ok {
			break
		}
		f[t] = string(v)
		body = rest
	}
	return f
}

// --- MySQL ------------------------------------------------------------------------------

// mysqlComplete says one packet (3-byte length, sequence id, payload) has arrived.
func mysqlComplete(b []byte) bool { return len(b) >= 4 && len(b) >= 4+le24(b) }

func shakeMySQL(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, nil, 16<<10, mysqlComplete)
	d, ok := parseMySQLGreeting(b)
	return d, b, ok
}

// parseMySQLGreeting recognizes the packet a MySQL or MariaDB server sends on connect: a
// protocol 10 (or 9) handshake with its version, or an error packet (a host not allowed to
// connect still reveals the server).
func parseMySQLGreeting(b []byte) (map[string]string, bool) {
	if len(b) < 5 || b[3] != 0 {
		return nil, false
	}
	n := le24(b)
	p := b[4:]
	if n < 2 || len(p) < n {
		return nil, false
	}
	p = p[:n]
	switch p[0] {
	case 9, 10:
		end := bytes.IndexByte(p[1:], 0)
		if end < 1 || end > 80 {
			return nil, false
		}
		v := p[1 : 1+end]
		if v[0] < '0' || v[0] > '9' || !printableASCII(v) {
			return nil, false
		}
		d := map[string]string{"version": string(v), "protocol": strconv.Itoa(int(p[0]))}
		rest := p[2+end:]
		if p[0] == 10 && len(rest) >= 15 {
			if rest[12] != 0 { // the filler after the first part of the salt
				return nil, false
			}
			caps := le16(rest[13:15])
			if len(rest) >= 20 {
				caps |= le16(rest[18:20]) << 16
			}
			if caps&0x800 != 0 {
				d["ssl"] = "offered"
			} else {
				d["ssl"] = "not offered"
			}
			if caps&0x80000 != 0 && len(rest) >= 31 {
				off := 31 + max(13, int(rest[20])-8)
				if off < len(rest) {
					name, _, _ := bytes.Cut(rest[off:], []byte{0})
					if len(name) > 0 && printableASCII(name) {
						d["auth"] = string(name)
					}
				}
			}
		}
		return d, true
	case 0xff:
		if len(p) < 4 {
			return nil, false
		}
		code := le16(p[1:3])
		msg := p[3:]
		if msg[0] == '#' && len(msg) >= 6 {
			msg = msg[6:]
		}
		if code < 1000 || code > 9999 || !printableASCII(msg) {
			return nil, false
		}
		return map[string]string{"error": clean(msg), "errno": strconv.Itoa(code)}, true
	}
	return nil, false
}

func printableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// --- SQL Server (TDS) -------------------------------------------------------------------

// tdsPrelogin is a TDS PRELOGIN packet: version, encryption (off: encrypt the login only, the
// common client default), default instance, thread id and MARS off.
var tdsPrelogin = func() []byte {
	opts := []struct {
		typ  byte
		data []byte
	}{
		{0x00, []byte{0x0f, 0x00, 0x07, 0xd0, 0x00, 0x00}},
		{0x01, []byte{0x00}},
		{0x02, []byte{0x00}},
		{0x03, []byte{0, 0, 0, 0}},
		{0x04, []byte{0x00}},
	}
	off := len(opts)*5 + 1
	var table, data []byte
	for _, o := range opts {
		table = append(table, o.typ)
		table = binary.BigEndian.AppendUint16(table, uint16(off+len(data)))
		table = binary.BigEndian.AppendUint16(table, uint16(len(o.data)))
		data = append(data, o.data...)
	}
	payload := append(append(table, 0xff), data...)
	b := []byte{0x12, 0x01}
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0, 1, 0) // SPID, packet id, window
	return append(b, payload...)
}()

// tdsComplete says one TDS packet (length in the 8-byte header) has arrived.
func tdsComplete(b []byte) bool { return len(b) >= 8 && len(b) >= be16(b[2:4]) }

func shakeMSSQL(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, tdsPrelogin, 8<<10, tdsComplete)
	d, ok := parseTDSPrelogin(b)
	return d, b, ok
}

// parseTDSPrelogin recognizes a PRELOGIN response: a tabular-result packet whose option table
// is well formed and carries the server's VERSION.
func parseTDSPrelogin(b []byte) (map[string]string, bool) {
	if len(b) < 8 || b[0] != 0x04 {
		return nil, false
	}
	n := be16(b[2:4])
	if n < 8+6 || n > len(b) {
		return nil, false
	}
	p := b[8:n]
	d := map[string]string{}
	hasVersion := false
	for i := 0; ; i += 5 {
		if i >= len(p) {
			return nil, false
		}
		if p[i] == 0xff {
			break
		}
		if i+5 > len(p) {
			return nil, false
		}
		off, l := be16(p[i+1:]), be16(p[i+3:])
		if off+l > len(p) {
			return nil, false
		}
		v := p[off : off+l]
		switch p[i] {
		case 0x00:
			if l < 6 {
				return nil, false
			}
			hasVersion = true
			d["version"] = fmt.Sprintf("%d.%d.%d", v[0], v[1], be16(v[2:4]))
			if name := sqlServerRelease(v[0]); name != "" {
				d["product"] = name
			}
		case 0x01:
			if l >= 1 {
				d["encryption"] = tdsEncryption(v[0])
			}
		}
	}
	if !hasVersion {
		return nil, false
	}
	return d, true
}

func sqlServerRelease(major byte) string {
	names := map[byte]string{9: "SQL Server 2005", 10: "SQL Server 2008", 11: "SQL Server 2012", 12: "SQL Server 2014",
		13: "SQL Server 2016", 14: "SQL Server 2017", 15: "SQL Server 2019", 16: "SQL Server 2022", 17: "SQL Server 2025"}
	return names[major]
}

func tdsEncryption(v byte) string {
	switch v {
	case 0:
		return "login only"
	case 1:
		return "on"
	case 2:
		return "not supported"
	case 3:
		return "required"
	}
	return fmt.Sprintf("0x%02x", v)
}

// --- MongoDB ----------------------------------------------------------------------------

const (
	mongoRequestID = 0x4b48494e // "KHIN"
	opMsg          = 2013
	opReply        = 1
)

// mongoHello is an OP_MSG running {hello: 1, $db: "admin"}, which needs no authentication.
var mongoHello = func() []byte {
	doc := bsonDoc(bsonInt32("hello", 1), bsonString("$db", "admin"))
	b := binary.LittleEndian.AppendUint32(nil, uint32(16+4+1+len(doc)))
	b = binary.LittleEndian.AppendUint32(b, mongoRequestID)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, opMsg)
	b = binary.LittleEndian.AppendUint32(b, 0) // flag bits
	b = append(b, 0)                           // section kind 0: the body
	return append(b, doc...)
}()

// mongoComplete says one wire-protocol message has arrived (or claims an absurd length).
func mongoComplete(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	return n > 48<<20 || uint64(len(b)) >= uint64(n)
}

func shakeMongo(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, mongoHello, maxBody, mongoComplete)
	d, ok := parseMongoReply(b, mongoRequestID)
	return d, b, ok
}

// parseMongoReply recognizes the answer to our hello: an OP_MSG (or legacy OP_REPLY) that
// responds to our request id and whose body is a BSON document with an "ok" field.
func parseMongoReply(b []byte, reqID uint32) (map[string]string, bool) {
	if len(b) < 16 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if n < 16 || uint64(n) > uint64(len(b)) || binary.LittleEndian.Uint32(b[8:]) != reqID {
		return nil, false
	}
	var doc []byte
	switch binary.LittleEndian.Uint32(b[12:]) {
	case opMsg:
		if n < 21 {
			return nil, false
		}
		p := b[20:n]
		if binary.LittleEndian.Uint32(b[16:])&1 != 0 { // checksumPresent
			if len(p) < 4 {
				return nil, false
			}
			p = p[:len(p)-4]
		}
	sections:
		for len(p) > 0 {
			kind := p[0]
			p = p[1:]
			switch kind {
			case 0:
				doc = p
				break sections
			case 1:
				if len(p) < 4 {
					return nil, false
				}
				l := binary.LittleEndian.Uint32(p)
				if l < 4 || uint64(l) > uint64(len(p)) {
					return nil, false
				}
				p = p[l:]
			default:
				return nil, false
			}
		}
	case opReply:
		if n < 36 {
			return nil, false
		}
		doc = b[36:n]
	default:
		return nil, false
	}
	m, _, err := bsonDecode(doc, 0)
	if err != nil {
		return nil, false
	}
	if _, ok := m["ok"]; !ok {
		return nil, false
	}
	d := map[string]string{}
	if v, ok := bsonInt(m["maxWireVersion"]); ok {
		d["max_wire_version"] = strconv.FormatInt(v, 10)
		if r := mongoRelease(v); r != "" {
			d["version"] = r
		}
	}
	for _, k := range []string{"isWritablePrimary", "ismaster"} {
		if v, ok := m[k].(bool); ok {
			d["primary"] = strconv.FormatBool(v)
			break
		}
	}
	if v, ok := m["setName"].(string); ok {
		d["replica_set"] = clean([]byte(v))
	}
	if v, ok := m["msg"].(string); ok && v == "isdbgrid" {
		d["router"] = "mongos"
	}
	if v, ok := m["errmsg"].(string); ok {
		d["error"] = clean([]byte(v))
	}
	return d, true
}

// mongoRelease maps the highest wire version to the release that introduced it.
func mongoRelease(wire int64) string {
	releases := []struct {
		wire int64
		name string
	}{{25, "8.0+"}, {21, "7.0+"}, {17, "6.0+"}, {13, "5.0+"}, {9, "4.4+"}, {8, "4.2+"}, {7, "4.0+"}, {6, "3.6+"}}
	for _, r := range releases {
		if wire >= r.wire {
			return r.name
		}
	}
	return ""
}

// --- Redis ------------------------------------------------------------------------------

var (
	redisPing = []byte("*1\r\n$4\r\nPING\r\n")
	redisInfo = []byte("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
)

func lineComplete(b []byte) bool { return bytes.Contains(b, []byte("\r\n")) }

func shakeRedis(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, redisPing, 4096, lineComplete)
	d, ok := recognizeRedis(b)
	if !ok {
		return nil, b, false
	}
	if strings.HasPrefix(d["auth"], "none") {
		info, _ := exchange(conn, s.timeout, redisInfo, maxBody, bulkComplete)
		if v := redisVersion(info); v != "" {
			d["version"] = v
		}
	}
	return d, b, true
}

// recognizeRedis recognizes the answers to PING: +PONG, or the refusals that still show a
// Redis (or Valkey, KeyDB) server listening: NOAUTH, protected-mode DENIED, and the
// "operation not permitted" of servers before 2.8.
func recognizeRedis(b []byte) (map[string]string, bool) {
	line, _, found := bytes.Cut(b, []byte("\r\n"))
	if !found {
		return nil, false
	}
	s := string(line)
	var auth string
	switch {
	case s == "+PONG":
		auth = "none: commands run without a password"
	case strings.HasPrefix(s, "-NOAUTH"):
		auth = "required (NOAUTH)"
	case strings.HasPrefix(s, "-DENIED"):
		auth = "protected mode (DENIED)"
	case strings.HasPrefix(s, "-ERR operation not permitted"):
		auth = "required"
	default:
		return nil, false
	}
	return map[string]string{"auth": auth, "reply": clean(line)}, true
}

// bulkComplete says a RESP bulk string ($len\r\n…\r\n) or a one-line reply has arrived.
func bulkComplete(b []byte) bool {
	hdr, rest, found := bytes.Cut(b, []byte("\r\n"))
	if !found {
		return false
	}
	if len(hdr) == 0 || hdr[0] != '$' {
		return true
	}
	n, err := strconv.Atoi(string(hdr[1:]))
	return err != nil || n < 0 || len(rest) >= n+2
}

// redisVersion finds redis_version (or valkey_version) in an INFO reply.
func redisVersion(b []byte) string {
	for line := range strings.SplitSeq(string(b), "\n") {
		for _, key := range []string{"valkey_version:", "redis_version:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), key); ok {
				return clean([]byte(v))
			}
		}
	}
	return ""
}

// --- Elasticsearch ----------------------------------------------------------------------

func esRequest(host, ua string) []byte {
	return []byte("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + ua +
		"\r\nAccept: application/json\r\nConnection: close\r\n\r\n")
}

// httpComplete says a whole HTTP response has arrived, when its framing tells.
func httpComplete(b []byte) bool {
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b[:i+4])), nil)
	if err != nil {
		return true
	}
	resp.Body.Close()
	switch {
	case resp.ContentLength >= 0:
		return int64(len(b)-i-4) >= resp.ContentLength
	case len(resp.TransferEncoding) > 0:
		return bytes.HasSuffix(b, []byte("0\r\n\r\n"))
	}
	return false
}

func shakeElasticsearch(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	host := s.host
	if host == "" {
		host = conn.RemoteAddr().String()
	}
	req := esRequest(host, s.ua)
	b, _ := exchange(conn, s.timeout, req, maxBody, httpComplete)
	if d, ok := recognizeElasticsearch(b); ok {
		d["tls"] = "no"
		return d, b, true
	}
	if bytes.HasPrefix(b, []byte("HTTP/")) {
		return nil, b, false // a web server, not Elasticsearch
	}
	// Elasticsearch 8 serves HTTPS on 9200 by default: ask again over TLS.
	c2, err := s.dial()
	if err != nil {
		return nil, b, false
	}
	defer c2.Close()
	tc, err := tlsClient(s, c2)
	if err != nil {
		return nil, b, false
	}
	b2, _ := exchange(tc, s.timeout, req, maxBody, httpComplete)
	if d, ok := recognizeElasticsearch(b2); ok {
		d["tls"] = "yes"
		return d, b2, true
	}
	return nil, b, false
}

// recognizeElasticsearch recognizes the answer to GET / of Elasticsearch or OpenSearch: the
// cluster information document ("You Know, for Search"), or the 401 its security layer gives.
func recognizeElasticsearch(b []byte) (map[string]string, bool) {
	if !bytes.HasPrefix(b, []byte("HTTP/")) {
		return nil, false
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return nil, false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	var info struct {
		ClusterName string `json:"cluster_name"`
		Version     struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
		Tagline string `json:"tagline"`
	}
	jsonOK := json.Unmarshal(body, &info) == nil
	product := resp.Header.Get("X-Elastic-Product")
	auth := resp.Header.Get("WWW-Authenticate")
	d := map[string]string{}
	switch {
	case jsonOK && (strings.Contains(info.Tagline, "for Search") || strings.Contains(info.Tagline, "OpenSearch") ||
		info.ClusterName != "" && info.Version.Number != ""):
		d["auth"] = "none: cluster information readable"
		if info.Version.Number != "" {
			d["version"] = clean([]byte(info.Version.Number))
		}
		if info.ClusterName != "" {
			d["cluster_name"] = clean([]byte(info.ClusterName))
		}
		if info.Version.Distribution == "opensearch" || strings.Contains(info.Tagline, "OpenSearch") {
			d["product"] = "OpenSearch"
		}
	case resp.StatusCode == http.StatusUnauthorized && (strings.Contains(auth, `realm="security"`) ||
		strings.Contains(auth, "OpenSearch Security") || bytes.Contains(body, []byte("security_exception"))):
		d["auth"] = "required"
	case product == "Elasticsearch":
		d["status"] = strconv.Itoa(resp.StatusCode)
	default:
		return nil, false
	}
	if product != "" {
		d["product"] = clean([]byte(product))
	}
	return d, true
}

// --- RDP --------------------------------------------------------------------------------

// rdpConnectionRequest is a TPKT-framed X.224 Connection Request carrying an RDP Negotiation
// Request for TLS and CredSSP (MS-RDPBCGR 2.2.1.1).
var rdpConnectionRequest = []byte{
	0x03, 0x00, 0x00, 0x13, // TPKT version 3, length 19
	0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224 CR: length 14, dst-ref, src-ref, class 0
	0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // RDP_NEG_REQ: PROTOCOL_SSL | PROTOCOL_HYBRID
}

// tpktComplete says one TPKT packet has arrived.
func tpktComplete(b []byte) bool { return len(b) >= 4 && len(b) >= be16(b[2:4]) }

func shakeRDP(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, rdpConnectionRequest, 1024, tpktComplete)
	d, ok := parseRDPConfirm(b)
	return d, b, ok
}

// parseRDPConfirm recognizes an X.224 Connection Confirm, with the security protocol the
// server selected or the reason it refused ours.
func parseRDPConfirm(b []byte) (map[string]string, bool) {
	if len(b) < 11 || b[0] != 3 || b[1] != 0 {
		return nil, false
	}
	n := be16(b[2:4])
	if n < 11 || n > len(b) || n != 5+int(b[4]) || b[5]&0xf0 != 0xd0 {
		return nil, false
	}
	d := map[string]string{}
	switch {
	case n >= 19 && b[11] == 0x02:
		sel := binary.LittleEndian.Uint32(b[15:19])
		d["security"] = rdpProtocol(sel)
		d["nla"] = strconv.FormatBool(sel&0x0a != 0)
	case n >= 19 && b[11] == 0x03:
		d["negotiation_failure"] = rdpFailure(binary.LittleEndian.Uint32(b[15:19]))
	default:
		d["security"] = "standard RDP security (no negotiation)"
		d["nla"] = "false"
	}
	return d, true
}

func rdpProtocol(p uint32) string {
	switch p {
	case 0:
		return "standard RDP security"
	case 1:
		return "TLS"
	case 2:
		return "CredSSP (NLA)"
	case 4:
		return "RDSTLS"
	case 8:
		return "CredSSP with early user authorization"
	}
	return fmt.Sprintf("0x%x", p)
}

func rdpFailure(c uint32) string {
	names := map[uint32]string{1: "SSL_REQUIRED_BY_SERVER", 2: "SSL_NOT_ALLOWED_BY_SERVER",
		3: "SSL_CERT_NOT_ON_SERVER", 4: "INCONSISTENT_FLAGS", 5: "HYBRID_REQUIRED_BY_SERVER",
		6: "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER"}
	if s, ok := names[c]; ok {
		return s
	}
	return fmt.Sprintf("0x%x", c)
}

// --- Telnet -----------------------------------------------------------------------------

func shakeTelnet(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, nil, 4096, nonEmpty)
	d, ok := recognizeTelnet(b)
	return d, b, ok
}

// recognizeTelnet recognizes what a Telnet server says first: option negotiation (IAC WILL,
// WONT, DO, DONT or a subnegotiation) or a plain-text login prompt.
func recognizeTelnet(b []byte) (map[string]string, bool) {
	if len(b) == 0 {
		return nil, false
	}
	var opts []string
	var text []byte
	for i := 0; i < len(b); {
		if b[i] != 0xff || i+1 >= len(b) {
			text = append(text, b[i])
			i++
			continue
		}
		switch c := b[i+1]; {
		case c >= 0xfb && c <= 0xfe:
			if i+2 < len(b) {
				opts = append(opts, telnetVerb(c)+" "+telnetOption(b[i+2]))
			}
			i += 3
		case c == 0xfa:
			end := bytes.Index(b[i+2:], []byte{0xff, 0xf0})
			if end < 0 {
				i = len(b)
			} else {
				i += 2 + end + 2
			}
		case c == 0xff:
			text = append(text, 0xff)
			i += 2
		default:
			i += 2
		}
	}
	banner := clean(text)
	lower := strings.ToLower(banner)
	negotiates := len(b) >= 3 && b[0] == 0xff && b[1] >= 0xfa && b[1] <= 0xfe
	prompt := strings.Contains(lower, "login:") || strings.Contains(lower, "username:") ||
		strings.Contains(lower, "user name:") || strings.Contains(lower, "password:")
	if !negotiates && !prompt {
		return nil, false
	}
	d := map[string]string{}
	if len(opts) > 0 {
		d["negotiation"] = strings.Join(firstN(opts, 6), ", ")
	}
	if banner != "" {
		d["banner"] = banner
	}
	return d, true
}

func telnetVerb(c byte) string {
	return [...]string{"WILL", "WONT", "DO", "DONT"}[c-0xfb]
}

func telnetOption(o byte) string {
	names := map[byte]string{0: "BINARY", 1: "ECHO", 3: "SUPPRESS-GO-AHEAD", 5: "STATUS", 24: "TERMINAL-TYPE",
		31: "NAWS", 32: "TERMINAL-SPEED", 33: "LFLOW", 34: "LINEMODE", 36: "ENVIRON", 39: "NEW-ENVIRON"}
	if s, ok := names[o]; ok {
		return s
	}
	return strconv.Itoa(int(o))
}

// --- VNC --------------------------------------------------------------------------------

func shakeVNC(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, nil, 64, func(b []byte) bool { return len(b) >= 12 })
	major, minor, ok := parseRFBVersion(b)
	if !ok {
		return nil, b, false
	}
	d := map[string]string{"version": string(b[:11])}
	// Answer with the highest version both speak (3.3, 3.7 or 3.8), then read the security
	// types offered: "None" means anyone gets the desktop without a password.
	cminor := 8
	if major == 3 && minor < 8 {
		cminor = 3
		if minor == 7 {
			cminor = 7
		}
	}
	list := cminor >= 7
	complete := func(b []byte) bool { return len(b) >= 4 }
	if list {
		complete = vncTypesComplete
	}
	sec, _ := exchange(conn, s.timeout, fmt.Appendf(nil, "RFB 003.%03d\n", cminor), 1024, complete)
	if types, none := parseVNCSecurity(sec, list); types != "" {
		d["security"] = types
		if none {
			d["auth"] = "none: no password asked"
		}
	}
	return d, b, true
}

// parseRFBVersion recognizes the ProtocolVersion message, "RFB xxx.yyy\n".
func parseRFBVersion(b []byte) (major, minor int, ok bool) {
	if len(b) < 12 || string(b[:4]) != "RFB " || b[7] != '.' || b[11] != '\n' {
		return 0, 0, false
	}
	for _, c := range append(b[4:7:7], b[8:11]...) {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
	}
	major, _ = strconv.Atoi(string(b[4:7]))
	minor, _ = strconv.Atoi(string(b[8:11]))
	return major, minor, true
}

func vncTypesComplete(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	if b[0] == 0 { // failure: a reason string follows
		return len(b) >= 5 && uint64(len(b)) >= 5+uint64(binary.BigEndian.Uint32(b[1:5]))
	}
	return len(b) >= 1+int(b[0])
}

// parseVNCSecurity names the security types offered (a list from 3.7 on, one type in 3.3)
// and reports whether "None" is among them.
func parseVNCSecurity(b []byte, list bool) (string, bool) {
	var types []uint32
	if list {
		if len(b) < 1 {
			return "", false
		}
		if b[0] == 0 {
			reason := b[1:]
			if len(reason) > 4 {
				reason = reason[4:]
			}
			return "refused: " + clean(reason), false
		}
		for _, t := range b[1:min(len(b), 1+int(b[0]))] {
			types = append(types, uint32(t))
		}
	} else {
		if len(b) < 4 {
			return "", false
		}
		t := binary.BigEndian.Uint32(b)
		if t == 0 {
			return "refused", false
		}
		types = append(types, t)
	}
	var names []string
	none := false
	for _, t := range types {
		none = none || t == 1
		names = append(names, vncSecurity(t))
	}
	return strings.Join(names, ", "), none
}

func vncSecurity(t uint32) string {
	names := map[uint32]string{1: "None", 2: "VNC Authentication", 5: "RA2", 6: "RA2ne", 16: "Tight",
		17: "Ultra", 18: "TLS", 19: "VeNCrypt", 20: "SASL", 21: "MD5", 22: "xvp", 30: "Apple Remote Desktop"}
	if s, ok := names[t]; ok {
		return s
	}
	return "type " + strconv.FormatUint(uint64(t), 10)
}

// --- SMB --------------------------------------------------------------------------------

// smbNegotiate is an SMB2 NEGOTIATE request for dialects 2.0.2 to 3.0.2, in a NetBIOS
// session message (direct TCP, port 445).
var smbNegotiate = func() []byte {
	h := make([]byte, 64)
	copy(h, "\xfeSMB")
	binary.LittleEndian.PutUint16(h[4:], 64) // StructureSize
	binary.LittleEndian.PutUint16(h[14:], 1) // CreditRequest
	body := make([]byte, 36)
	binary.LittleEndian.PutUint16(body[0:], 36) // StructureSize
	binary.LittleEndian.PutUint16(body[2:], 4)  // DialectCount
	binary.LittleEndian.PutUint16(body[4:], 1)  // SecurityMode: signing enabled
	copy(body[12:28], "khien-exposure-1")       // ClientGuid
	for _, d := range []uint16{0x0202, 0x0210, 0x0300, 0x0302} {
		body = binary.LittleEndian.AppendUint16(body, d)
	}
	msg := append(h, body...)
	return append([]byte{0, byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg...)
}()

// netbiosComplete says one NetBIOS session message has arrived.
func netbiosComplete(b []byte) bool { return len(b) >= 4 && len(b) >= 4+be24(b[1:4]) }

func shakeSMB(s *session, conn net.Conn) (map[string]string, []byte, bool) {
	b, _ := exchange(conn, s.timeout, smbNegotiate, 8<<10, netbiosComplete)
	d, ok := parseSMBNegotiate(b)
	return d, b, ok
}

// parseSMBNegotiate recognizes an SMB2 NEGOTIATE response (or an SMB1 answer) in a NetBIOS
// session message, with the dialect chosen and whether signing is required.
func parseSMBNegotiate(b []byte) (map[string]string, bool) {
	if len(b) < 8 || b[0] != 0 {
		return nil, false
	}
	p := b[4:]
	if n := be24(b[1:4]); len(p) > n {
		p = p[:n]
	}
	if len(p) < 4 {
		return nil, false
	}
	switch string(p[:4]) {
	case "\xffSMB":
		return map[string]string{"dialect": "SMB 1"}, true
	case "\xfeSMB":
	default:
		return nil, false
	}
	if len(p) < 64 || le16(p[4:6]) != 64 || le16(p[12:14]) != 0 {
		return nil, false
	}
	d := map[string]string{}
	if st := binary.LittleEndian.Uint32(p[8:12]); st != 0 {
		d["status"] = fmt.Sprintf("0x%08x", st)
	}
	if body := p[64:]; len(body) >= 6 && le16(body[0:2]) == 65 {
		d["dialect"] = smbDialect(le16(body[4:6]))
		switch mode := le16(body[2:4]); {
		case mode&2 != 0:
			d["signing"] = "required"
		case mode&1 != 0:
			d["signing"] = "enabled, not required"
		default:
			d["signing"] = "disabled"
		}
	}
	return d, true
}

func smbDialect(d int) string {
	switch d {
	case 0x0202:
		return "2.0.2"
	case 0x0210:
		return "2.1"
	case 0x0300:
		return "3.0"
	case 0x0302:
		return "3.0.2"
	case 0x0311:
		return "3.1.1"
	case 0x02ff:
		return "2.??"
	}
	return fmt.Sprintf("0x%04x", d)
}

// recognizers maps each protocol to its pure recognizer of a server's first answer, for the
// fuzz test and for table tests.
var recognizers = map[string]func([]byte) (map[string]string, bool){
	PostgreSQL: func(b []byte) (map[string]string, bool) {
		if _, ok := recognizePGSSLReply(b); ok {
			return map[string]string{}, true
		}
		return parsePGReply(b)
	},
	MySQL:         parseMySQLGreeting,
	MSSQL:         parseTDSPrelogin,
	MongoDB:       func(b []byte) (map[string]string, bool) { return parseMongoReply(b, mongoRequestID) },
	Redis:         recognizeRedis,
	Elasticsearch: recognizeElasticsearch,
	RDP:           parseRDPConfirm,
	Telnet:        recognizeTelnet,
	VNC: func(b []byte) (map[string]string, bool) {
		_, _, ok := parseRFBVersion(b)
		return nil, ok
	},
	SMB: parseSMBNegotiate,
}
