package exposure

import (
	"encoding/binary"
	"strconv"
	"testing"
)

// Samples of what real servers answer, and of what other servers on the same port would.
var (
	httpAnswer = []byte("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nBad Request")
	sshBanner  = []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")
)

func pgMessage(typ byte, body string) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{typ}, uint32(4+len(body))), body...)
}

func mysqlPacket(seq byte, p string) []byte {
	return append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}, p...)
}

func mongoReply(op uint32, responseTo uint32, body []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(16+len(body)))
	b = binary.LittleEndian.AppendUint32(b, 99)
	b = binary.LittleEndian.AppendUint32(b, responseTo)
	b = binary.LittleEndian.AppendUint32(b, op)
	return append(b, body...)
}

func TestRecognizers(t *testing.T) {
	hello := bsonDoc(bsonInt32("maxWireVersion", 17), bsonString("setName", "rs0"), bsonInt32("ok", 1))
	opMsgBody := append([]byte{0, 0, 0, 0, 0}, hello...)
	opReplyBody := append(make([]byte, 20), hello...)
	unauthorized := bsonDoc(bsonInt32("ok", 0), bsonString("errmsg", "command hello requires authentication"))
	greeting := "\x0a8.0.36\x00\x07\x00\x00\x00abcdefgh\x00\xff\xff\xff\x02\x00\xff\xdf\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00ijklmnopqrst\x00caching_sha2_password\x00"
	esBody := `{"name":"n1","cluster_name":"prod","version":{"number":"7.17.9"},"tagline":"You Know, for Search"}`
	osBody := `{"name":"n1","cluster_name":"docker-cluster","version":{"distribution":"opensearch","number":"2.11.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`
	es401 := "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"\r\ncontent-type: application/json\r\ncontent-length: 42\r\n\r\n" +
		`{"error":{"type":"security_exception"}}   `
	tests := []struct {
		proto string
		name  string
		in    []byte
		want  map[string]string // nil: not recognized
	}{
		{PostgreSQL, "ssl yes", []byte("S"), map[string]string{}},
		{PostgreSQL, "ssl no", []byte("N"), map[string]string{}},
		{PostgreSQL, "scram", pgMessage('R', "\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00"), map[string]string{"auth": "SASL SCRAM-SHA-256-PLUS SCRAM-SHA-256"}},
		{PostgreSQL, "md5", pgMessage('R', "\x00\x00\x00\x05salt"), map[string]string{"auth": "MD5 password"}},
		{PostgreSQL, "trust", append(append(pgMessage('R', "\x00\x00\x00\x00"), pgMessage('S', "server_version\x0016.2\x00")...), pgMessage('Z', "I")...),
			map[string]string{"auth": "none (trust): no password asked", "version": "16.2"}},
		{PostgreSQL, "hba refusal", pgMessage('E', "SFATAL\x00C28000\x00Mno pg_hba.conf entry for host\x00\x00"), map[string]string{"sqlstate": "28000", "error": "no pg_hba.conf entry for host"}},
		{PostgreSQL, "ssh", sshBanner, nil},
		{PostgreSQL, "two bytes", []byte("NN"), nil},
		{MySQL, "greeting", mysqlPacket(0, greeting), map[string]string{"version": "8.0.36", "auth": "caching_sha2_password", "ssl": "offered"}},
		{MySQL, "mariadb", mysqlPacket(0, "\x0a5.5.5-10.11.6-MariaDB\x00"+greeting[8:]), map[string]string{"version": "5.5.5-10.11.6-MariaDB"}},
		{MySQL, "host blocked", mysqlPacket(0, "\xff\x6a\x04Host '192.0.2.9' is not allowed to connect to this MySQL server"), map[string]string{"errno": "1130"}},
		{MySQL, "wrong sequence", mysqlPacket(1, greeting), nil},
		{MySQL, "version not a number", mysqlPacket(0, "\x0aabc\x00"+greeting[8:]), nil},
		{MySQL, "http", httpAnswer, nil},
		{MSSQL, "prelogin", preloginResponse(15, 0, 4218, 2),
			map[string]string{"version": "15.0.4218", "product": "SQL Server 2019", "encryption": "not supported"}},
		{MSSQL, "offset out of range", []byte("\x04\x01\x00\x14\x00\x00\x01\x00\x00\x00\xf0\x00\x06\xff\x00\x00\x00\x00\x00\x00"), nil},
		{MSSQL, "http", httpAnswer, nil},
		{MongoDB, "op_msg", mongoReply(opMsg, mongoRequestID, opMsgBody), map[string]string{"max_wire_version": "17", "version": "6.0+", "replica_set": "rs0"}},
		{MongoDB, "op_reply", mongoReply(opReply, mongoRequestID, opReplyBody), map[string]string{"max_wire_version": "17"}},
		{MongoDB, "auth error", mongoReply(opMsg, mongoRequestID, append([]byte{0, 0, 0, 0, 0}, unauthorized...)), map[string]string{"error": "command hello requires authentication"}},
		{MongoDB, "other request", mongoReply(opMsg, 7, opMsgBody), nil},
		{MongoDB, "no ok field", mongoReply(opMsg, mongoRequestID, append([]byte{0, 0, 0, 0, 0}, bsonDoc(bsonInt32("x", 1))...)), nil},
		{MongoDB, "http", httpAnswer, nil},
		{Redis, "pong", []byte("+PONG\r\n"), map[string]string{"auth": "none: commands run without a password"}},
		{Redis, "noauth", []byte("-NOAUTH Authentication required.\r\n"), map[string]string{"auth": "required (NOAUTH)"}},
		{Redis, "protected", []byte("-DENIED Redis is running in protected mode\r\n"), map[string]string{"auth": "protected mode (DENIED)"}},
		{Redis, "other error", []byte("-ERR unknown command\r\n"), nil},
		{Redis, "http", httpAnswer, nil},
		{Elasticsearch, "open", []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(esBody)) + "\r\n\r\n" + esBody),
			map[string]string{"version": "7.17.9", "cluster_name": "prod", "auth": "none: cluster information readable"}},
		{Elasticsearch, "opensearch", []byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(osBody)) + "\r\n\r\n" + osBody), map[string]string{"product": "OpenSearch", "version": "2.11.0"}},
		{Elasticsearch, "security", []byte(es401), map[string]string{"auth": "required"}},
		{Elasticsearch, "other json api", []byte("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"), nil},
		{Elasticsearch, "plain 401", []byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"admin\"\r\nContent-Length: 0\r\n\r\n"), nil},
		{RDP, "nla", []byte("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00"), map[string]string{"security": "CredSSP (NLA)", "nla": "true"}},
		{RDP, "tls only", []byte("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x01\x00\x00\x00"), map[string]string{"security": "TLS", "nla": "false"}},
		{RDP, "failure", []byte("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x03\x00\x08\x00\x05\x00\x00\x00"), map[string]string{"negotiation_failure": "HYBRID_REQUIRED_BY_SERVER"}},
		{RDP, "old server", []byte("\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00"), map[string]string{"nla": "false"}},
		{RDP, "bad length indicator", []byte("\x03\x00\x00\x0b\x07\xd0\x00\x00\x12\x34\x00"), nil},
		{RDP, "http", httpAnswer, nil},
		{Telnet, "negotiation", []byte("\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"), map[string]string{"negotiation": "DO TERMINAL-TYPE, DO TERMINAL-SPEED, DO 35, DO NEW-ENVIRON"}},
		{Telnet, "prompt", []byte("\r\nUser Access Verification\r\n\r\nUsername: "), map[string]string{"banner": "User Access Verification Username:"}},
		{Telnet, "ssh", sshBanner, nil},
		{Telnet, "ftp", []byte("220 (vsFTPd 3.0.5)\r\n"), nil},
		{VNC, "3.8", []byte("RFB 003.008\n"), nil},
		{VNC, "apple", []byte("RFB 003.889\n"), nil},
		{SMB, "smb2", append([]byte{0, 0, 0, 0x81}, smb2Response(0x0311, 3)...), map[string]string{"dialect": "3.1.1", "signing": "required"}},
		{SMB, "smb1", []byte("\x00\x00\x00\x23\xffSMBr\x00\x00\x00\x00\x88\x01\xc8"), map[string]string{"dialect": "SMB 1"}},
		{SMB, "http", httpAnswer, nil},
	}
	for _, tt := range tests {
		t.Run(tt.proto+"/"+tt.name, func(t *testing.T) {
			got, ok := recognizers[tt.proto](tt.in)
			if ok != (tt.want != nil) && !(tt.proto == VNC && ok) {
				t.Fatalf("recognize %s = %v, %v; want recognized %v", tt.proto, got, ok, tt.want != nil)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
	for _, bad := range [][]byte{nil, httpAnswer, sshBanner, []byte("RFB 3.8\n")} {
		if _, _, ok := parseRFBVersion(bad); ok {
			t.Errorf("parseRFBVersion(%q) recognized", bad)
		}
	}
}

func smb2Response(dialect uint16, mode uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\xfeSMB")
	binary.LittleEndian.PutUint16(h[4:], 64)
	body := make([]byte, 65)
	binary.LittleEndian.PutUint16(body[0:], 65)
	binary.LittleEndian.PutUint16(body[2:], mode)
	binary.LittleEndian.PutUint16(body[4:], dialect)
	return append(h, body...)
}

// preloginResponse is a TDS PRELOGIN response with VERSION major.minor.build and ENCRYPTION enc.
func preloginResponse(major, minor byte, build uint16, enc byte) []byte {
	payload := []byte{0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xff, major, minor, byte(build >> 8), byte(build), 0, 0, enc}
	b := binary.BigEndian.AppendUint16([]byte{0x04, 0x01}, uint16(8+len(payload)))
	return append(append(b, 0, 0, 1, 0), payload...)
}

func TestVNCSecurity(t *testing.T) {
	tests := []struct {
		in       string
		list     bool
		want     string
		wantNone bool
	}{
		{"\x02\x01\x02", true, "None, VNC Authentication", true},
		{"\x01\x13", true, "VeNCrypt", false},
		{"\x00\x00\x00\x00\x0ctoo many try", true, "refused: too many try", false},
		{"\x00\x00\x00\x02", false, "VNC Authentication", false},
		{"\x00\x00\x00\x01", false, "None", true},
		{"", true, "", false},
	}
	for _, tt := range tests {
		got, none := parseVNCSecurity([]byte(tt.in), tt.list)
		if got != tt.want || none != tt.wantNone {
			t.Errorf("parseVNCSecurity(%q) = %q, %v; want %q, %v", tt.in, got, none, tt.want, tt.wantNone)
		}
	}
}

func TestBSONRoundTrip(t *testing.T) {
	doc := bsonDoc(bsonInt32("hello", 1), bsonString("$db", "admin"))
	m, n, err := bsonDecode(doc, 0)
	if err != nil || n != len(doc) || m["hello"] != int32(1) || m["$db"] != "admin" {
		t.Fatalf("bsonDecode(bsonDoc(…)) = %v, %d, %v", m, n, err)
	}
	// Nested documents and the types a hello reply carries.
	nested := bsonDoc(
		append(append([]byte{0x03}, "topologyVersion\x00"...), bsonDoc(bsonInt32("counter", 0))...),
		append([]byte{0x08}, "isWritablePrimary\x00\x01"...),
		append([]byte{0x09}, "localTime\x00\x00\x00\x00\x00\x00\x00\x00\x00"...),
		append([]byte{0x01}, "ok\x00\x00\x00\x00\x00\x00\x00\xf0\x3f"...),
	)
	m, _, err = bsonDecode(nested, 0)
	if err != nil || m["isWritablePrimary"] != true || m["ok"] != 1.0 {
		t.Fatalf("bsonDecode(nested) = %v, %v", m, err)
	}
	for _, bad := range [][]byte{nil, {5, 0, 0, 0}, {6, 0, 0, 0, 0x02, 0}, {4, 0, 0, 0, 0}, append(doc[:len(doc)-1:len(doc)-1], 1)} {
		if _, _, err := bsonDecode(bad, 0); err == nil {
			t.Errorf("bsonDecode(%x) accepted malformed BSON", bad)
		}
	}
}

func TestRequests(t *testing.T) {
	// The hand-built requests are well formed by their own protocols' framing.
	if got := int(binary.BigEndian.Uint32(pgStartup)); got != len(pgStartup) {
		t.Errorf("StartupMessage length field %d, message is %d bytes", got, len(pgStartup))
	}
	if !tdsComplete(tdsPrelogin) || be16(tdsPrelogin[2:4]) != len(tdsPrelogin) {
		t.Errorf("PRELOGIN length field %d, packet is %d bytes", be16(tdsPrelogin[2:4]), len(tdsPrelogin))
	}
	if !mongoComplete(mongoHello) || int(binary.LittleEndian.Uint32(mongoHello)) != len(mongoHello) {
		t.Errorf("hello length field wrong")
	}
	if !tpktComplete(rdpConnectionRequest) || be16(rdpConnectionRequest[2:4]) != len(rdpConnectionRequest) {
		t.Errorf("RDP Connection Request length field wrong")
	}
	if !netbiosComplete(smbNegotiate) || be24(smbNegotiate[1:4]) != len(smbNegotiate)-4 {
		t.Errorf("SMB NEGOTIATE length field wrong")
	}
}
