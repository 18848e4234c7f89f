package exposurelab

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Protocol names, the same strings exposure.Options.Ports uses as keys.
const (
	PostgreSQL    = "postgresql"
	MySQL         = "mysql"
	MSSQL         = "mssql"
	MongoDB       = "mongodb"
	Redis         = "redis"
	Elasticsearch = "elasticsearch"
	RDP           = "rdp"
	Telnet        = "telnet"
	VNC           = "vnc"
	SMB           = "smb"
)

// Protocols lists every service protocol the lab speaks: databases first, then remote
// administration.
var Protocols = []string{PostgreSQL, MySQL, MSSQL, MongoDB, Redis, Elasticsearch, RDP, Telnet, VNC, SMB}

// Databases and RemoteAdmin split Protocols the way the exposure checks do.
var (
	Databases   = []string{PostgreSQL, MySQL, MSSQL, MongoDB, Redis, Elasticsearch}
	RemoteAdmin = []string{RDP, Telnet, VNC, SMB}
)

// StartService starts a listener on port 0 of ip that answers the first steps of protocol
// the way a real server does, and no further: no data is ever served.
func StartService(ctx context.Context, ip netip.Addr, protocol string) (*Server, error) {
	return StartServiceAt(ctx, netip.AddrPortFrom(ip, 0), protocol)
}

// StartServiceAt is StartService on a given address and port, such as the protocol's standard
// port (5432 for PostgreSQL) on a lab host of its own; port 0 picks a free one.
func StartServiceAt(ctx context.Context, ap netip.AddrPort, protocol string) (*Server, error) {
	if protocol == Elasticsearch {
		s, err := startWeb(ctx, ap, elasticsearch(), false)
		if err != nil {
			return nil, err
		}
		s.Name, s.URL = Elasticsearch, ""
		return s, nil
	}
	handlers := map[string]func(net.Conn){
		PostgreSQL: servePostgres,
		MySQL:      serveMySQL,
		MSSQL:      serveMSSQL,
		MongoDB:    serveMongo,
		Redis:      serveRedis,
		RDP:        serveRDP,
		Telnet:     serveTelnet,
		VNC:        serveVNC,
		SMB:        serveSMB,
	}
	h, ok := handlers[protocol]
	if !ok {
		return nil, fmt.Errorf("exposurelab: unknown protocol %q; use one of %s", protocol, strings.Join(Protocols, ", "))
	}
	s, err := listen(ctx, ap, protocol)
	if err != nil {
		return nil, err
	}
	s.serve(h)
	s.closeWith(ctx)
	return s, nil
}

// Services is a set of running service listeners.
type Services []*Server

// StartServices starts one listener per protocol on ip (every protocol when none is named).
func StartServices(ctx context.Context, ip netip.Addr, protocols ...string) (Services, error) {
	if len(protocols) == 0 {
		protocols = Protocols
	}
	var ss Services
	for _, p := range protocols {
		s, err := StartService(ctx, ip, p)
		if err != nil {
			ss.Close()
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, nil
}

// Ports maps each protocol to the port its listener got, in the shape of
// exposure.Options.Ports.
func (ss Services) Ports() map[string][]int {
	m := map[string][]int{}
	for _, s := range ss {
		m[s.Name] = append(m[s.Name], s.Port())
	}
	return m
}

// Close stops every listener.
func (ss Services) Close() error {
	var errs []error
	for _, s := range ss {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// readFull reads exactly n bytes, refusing absurd sizes.
func readFull(c net.Conn, n int) ([]byte, error) {
	if n < 0 || n > 1<<16 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return b, err
}

// drain waits for the client to hang up, as a server waiting for the next step would.
func drain(c net.Conn) { _, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<16)) }

// servePostgres refuses TLS ('N') and asks for SCRAM-SHA-256 in answer to a StartupMessage.
func servePostgres(c net.Conn) {
	for {
		hdr, err := readFull(c, 4)
		if err != nil {
			return
		}
		body, err := readFull(c, int(binary.BigEndian.Uint32(hdr))-4)
		if err != nil || len(body) < 4 {
			return
		}
		switch binary.BigEndian.Uint32(body) {
		case 80877103, 80877104: // SSLRequest, GSSENCRequest
			if _, err := c.Write([]byte{'N'}); err != nil {
				return
			}
		case 3 << 16: // StartupMessage, protocol 3.0
			mech := "SCRAM-SHA-256\x00\x00"
			msg := binary.BigEndian.AppendUint32([]byte{'R'}, uint32(8+len(mech)))
			msg = binary.BigEndian.AppendUint32(msg, 10) // AuthenticationSASL
			_, _ = c.Write(append(msg, mech...))
			drain(c)
			return
		default:
			return
		}
	}
}

// serveMySQL sends a MySQL 8 handshake (protocol 10) and waits.
func serveMySQL(c net.Conn) {
	const caps = 0x0001 | 0x0200 | 0x0800 | 0x8000 | 0x80000 // long password, 4.1, SSL, secure conn, plugin auth
	p := []byte{10}
	p = append(p, "8.0.36-khien-lab\x00"...)
	p = binary.LittleEndian.AppendUint32(p, 7) // connection id
	p = append(p, "abcdefgh"...)               // salt, first part
	p = append(p, 0)                           // filler
	p = binary.LittleEndian.AppendUint16(p, caps&0xffff)
	p = append(p, 0xff)                        // utf8mb4_0900_ai_ci
	p = binary.LittleEndian.AppendUint16(p, 2) // autocommit
	p = binary.LittleEndian.AppendUint16(p, caps>>16)
	p = append(p, 21)                    // salt length
	p = append(p, make([]byte, 10)...)   // reserved
	p = append(p, "ijklmnopqrst\x00"...) // salt, second part
	p = append(p, "caching_sha2_password\x00"...)
	hdr := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}
	if _, err := c.Write(append(hdr, p...)); err != nil {
		return
	}
	drain(c)
}

// serveMSSQL answers a PRELOGIN with SQL Server 2022's version and "encryption not supported".
func serveMSSQL(c net.Conn) {
	hdr, err := readFull(c, 8)
	if err != nil || hdr[0] != 0x12 {
		return
	}
	if _, err := readFull(c, int(binary.BigEndian.Uint16(hdr[2:4]))-8); err != nil {
		return
	}
	version := []byte{16, 0, 0x03, 0xe8, 0, 0} // 16.0.1000.0
	payload := []byte{
		0x00, 0, 11, 0, 6, // VERSION at 11, 6 bytes
		0x01, 0, 17, 0, 1, // ENCRYPTION at 17, 1 byte
		0xff,
	}
	payload = append(append(payload, version...), 0x02)
	resp := []byte{0x04, 0x01}
	resp = binary.BigEndian.AppendUint16(resp, uint16(8+len(payload)))
	resp = append(resp, 0, 0, 1, 0)
	if _, err := c.Write(append(resp, payload...)); err != nil {
		return
	}
	drain(c)
}

// serveMongo answers any OP_MSG with a MongoDB 7 hello reply.
func serveMongo(c net.Conn) {
	for {
		hdr, err := readFull(c, 16)
		if err != nil {
			return
		}
		if _, err := readFull(c, int(binary.LittleEndian.Uint32(hdr))-16); err != nil {
			return
		}
		if binary.LittleEndian.Uint32(hdr[12:]) != 2013 {
			return
		}
		doc := bsonDoc(
			bsonBool("isWritablePrimary", true),
			bsonInt32("maxBsonObjectSize", 16<<20),
			bsonInt32("maxWireVersion", 21),
			bsonInt32("minWireVersion", 0),
			bsonDouble("ok", 1),
		)
		msg := binary.LittleEndian.AppendUint32(nil, uint32(16+4+1+len(doc)))
		msg = binary.LittleEndian.AppendUint32(msg, 1)                                   // request id
		msg = binary.LittleEndian.AppendUint32(msg, binary.LittleEndian.Uint32(hdr[4:])) // responseTo
		msg = binary.LittleEndian.AppendUint32(msg, 2013)
		msg = binary.LittleEndian.AppendUint32(msg, 0)
		msg = append(append(msg, 0), doc...)
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}

// serveRedis is a Redis with a password: every command gets -NOAUTH.
func serveRedis(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 && strings.Contains(string(buf[:n]), "\r\n") {
			if _, err := c.Write([]byte("-NOAUTH Authentication required.\r\n")); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// elasticsearch answers GET / with an Elasticsearch 8 cluster information document.
func elasticsearch() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"name":         "lab-node-1",
			"cluster_name": "khien-lab",
			"cluster_uuid": "bGFiLWNsdXN0ZXItdXVpZA",
			"version": map[string]any{
				"number":       "8.13.4",
				"build_flavor": "default",
				"build_type":   "docker",
			},
			"tagline": "You Know, for Search",
		})
	})
	return mux
}

// serveRDP confirms the connection and selects CredSSP (NLA).
func serveRDP(c net.Conn) {
	hdr, err := readFull(c, 4)
	if err != nil || hdr[0] != 3 {
		return
	}
	if _, err := readFull(c, int(binary.BigEndian.Uint16(hdr[2:4]))-4); err != nil {
		return
	}
	cc := []byte{
		0x03, 0x00, 0x00, 0x13,
		0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00,
		0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, // RDP_NEG_RSP: PROTOCOL_HYBRID
	}
	if _, err := c.Write(cc); err != nil {
		return
	}
	drain(c)
}

// serveTelnet negotiates options and prompts for a login, as a router's Telnet would.
func serveTelnet(c net.Conn) {
	greeting := []byte{0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfd, 0x1f}
	greeting = append(greeting, "\r\nKhien lab router\r\n\r\nlogin: "...)
	if _, err := c.Write(greeting); err != nil {
		return
	}
	drain(c)
}

// serveVNC offers RFB 3.8 with VNC password authentication.
func serveVNC(c net.Conn) {
	if _, err := c.Write([]byte("RFB 003.008\n")); err != nil {
		return
	}
	if _, err := readFull(c, 12); err != nil {
		return
	}
	if _, err := c.Write([]byte{1, 2}); err != nil { // one type: VNC Authentication
		return
	}
	drain(c)
}

// serveSMB answers an SMB2 NEGOTIATE with dialect 3.0.2, signing enabled but not required.
func serveSMB(c net.Conn) {
	hdr, err := readFull(c, 4)
	if err != nil || hdr[0] != 0 {
		return
	}
	req, err := readFull(c, int(hdr[1])<<16|int(hdr[2])<<8|int(hdr[3]))
	if err != nil || len(req) < 64 || string(req[:4]) != "\xfeSMB" {
		return
	}
	h := make([]byte, 64)
	copy(h, "\xfeSMB")
	binary.LittleEndian.PutUint16(h[4:], 64) // StructureSize
	binary.LittleEndian.PutUint16(h[14:], 1) // CreditResponse
	binary.LittleEndian.PutUint32(h[16:], 1) // Flags: SERVER_TO_REDIR
	body := make([]byte, 65)
	binary.LittleEndian.PutUint16(body[0:], 65)     // StructureSize
	binary.LittleEndian.PutUint16(body[2:], 1)      // SecurityMode: signing enabled
	binary.LittleEndian.PutUint16(body[4:], 0x0302) // DialectRevision
	copy(body[8:24], "khien-lab-smb-01")            // ServerGuid
	binary.LittleEndian.PutUint32(body[28:], 1<<16) // MaxTransactSize
	binary.LittleEndian.PutUint32(body[32:], 1<<16) // MaxReadSize
	binary.LittleEndian.PutUint32(body[36:], 1<<16) // MaxWriteSize
	binary.LittleEndian.PutUint64(body[40:], uint64(time.Now().Unix()+11644473600)*10_000_000)
	binary.LittleEndian.PutUint16(body[56:], 128) // SecurityBufferOffset
	msg := append(h, body...)
	if _, err := c.Write(append([]byte{0, byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg...)); err != nil {
		return
	}
	drain(c)
}

// Minimal BSON encoding for the MongoDB reply.

func bsonDoc(elems ...[]byte) []byte {
	n := 5
	for _, e := range elems {
		n += len(e)
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(n))
	for _, e := range elems {
		b = append(b, e...)
	}
	return append(b, 0)
}

func bsonName(t byte, name string) []byte { return append(append([]byte{t}, name...), 0) }

func bsonInt32(name string, v int32) []byte {
	return binary.LittleEndian.AppendUint32(bsonName(0x10, name), uint32(v))
}

func bsonDouble(name string, v float64) []byte {
	return binary.LittleEndian.AppendUint64(bsonName(0x01, name), math.Float64bits(v))
}

func bsonBool(name string, v bool) []byte {
	b := byte(0)
	if v {
		b = 1
	}
	return append(bsonName(0x08, name), b)
}
