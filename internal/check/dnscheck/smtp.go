package dnscheck

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/khien-vn/khien/internal/check"
)

// SMTPEndpoint is what one address of one MX said, as kept in evidence.
type SMTPEndpoint struct {
	Address string   `json:"address"` // ip:port
	Banner  []string `json:"banner,omitempty"`
	EHLO    []string `json:"ehlo,omitempty"`
	// STARTTLS reports whether EHLO advertised STARTTLS.
	STARTTLS bool `json:"starttls_offered"`
	// STARTTLSReply is the answer to the STARTTLS command.
	STARTTLSReply []string `json:"starttls_reply,omitempty"`
	TLS           *TLSInfo `json:"tls,omitempty"`
	TLSError      string   `json:"tls_error,omitempty"`
	// Error says why the SMTP conversation did not get as far as EHLO.
	Error string `json:"error,omitempty"`
}

// TLSInfo describes a completed STARTTLS handshake (certificates are not verified: the
// check is whether mail can be encrypted at all).
type TLSInfo struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	Subject     string `json:"leaf_subject,omitempty"`
	SHA256      string `json:"leaf_sha256,omitempty"`
}

// verdict is an endpoint's status for mail.starttls.missing.
func (e SMTPEndpoint) verdict() check.Status {
	switch {
	case e.Error != "":
		return check.Error
	case e.TLS != nil:
		return check.Pass
	}
	return check.Fail
}

const (
	maxReplyLines = 100
	maxEvidence   = 512 // bytes kept of one reply line
)

// probeSMTP greets addr as a sending mail server would: banner, EHLO, and if STARTTLS is
// advertised, STARTTLS and a TLS handshake with host as SNI (no verification), then QUIT.
func probeSMTP(ctx context.Context, env check.Env, host string, addr netip.AddrPort, helo string) SMTPEndpoint {
	ep := SMTPEndpoint{Address: addr.String()}
	to := timeout(env)
	// The guard does not count the wait for the address's budget against the dial's time-out
	// (a mail exchanger many resources of a scan share is not slow for it), and the
	// conversation's clock starts once connected.
	dctx, dcancel := context.WithTimeout(ctx, to)
	conn, err := env.Dial(dctx, "tcp", addr.String())
	dcancel()
	if err != nil {
		ep.Error = "connect: " + err.Error()
		return ep
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 6*to)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	// One deadline for the whole conversation: a handful of short exchanges.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	br := bufio.NewReaderSize(conn, 4096)
	code, lines, err := readReply(br)
	ep.Banner = lines
	switch {
	case err != nil:
		ep.Error = "read greeting: " + err.Error()
		return ep
	case code != 220:
		ep.Error = fmt.Sprintf("the server greeted with %d instead of 220", code)
		return ep
	}
	quit := func(w interface{ Write([]byte) (int, error) }) { _, _ = w.Write([]byte("QUIT\r\n")) }
	if _, err := conn.Write([]byte("EHLO " + helo + "\r\n")); err != nil {
		ep.Error = "send EHLO: " + err.Error()
		return ep
	}
	code, lines, err = readReply(br)
	ep.EHLO = lines
	if err != nil {
		ep.Error = "read EHLO reply: " + err.Error()
		return ep
	}
	if code != 250 {
		// No ESMTP, so no STARTTLS: a fail, with the reply as evidence.
		quit(conn)
		return ep
	}
	for _, l := range lines[1:] {
		if kw, _, _ := strings.Cut(strings.TrimSpace(l[min(4, len(l)):]), " "); strings.EqualFold(kw, "STARTTLS") {
			ep.STARTTLS = true
		}
	}
	if !ep.STARTTLS {
		quit(conn)
		return ep
	}
	if _, err := conn.Write([]byte("STARTTLS\r\n")); err != nil {
		ep.TLSError = "send STARTTLS: " + err.Error()
		return ep
	}
	code, lines, err = readReply(br)
	ep.STARTTLSReply = lines
	switch {
	case err != nil:
		ep.TLSError = "read STARTTLS reply: " + err.Error()
		return ep
	case code != 220:
		ep.TLSError = fmt.Sprintf("STARTTLS was advertised but the command was answered %d", code)
		quit(conn)
		return ep
	case br.Buffered() > 0:
		// Bytes after the 220 would be read as part of the TLS stream: a broken or
		// tampered server.
		ep.TLSError = "the server sent data after agreeing to STARTTLS"
		return ep
	}
	cfg := &tls.Config{
		InsecureSkipVerify: true, // the question is whether mail can be encrypted at all
		MinVersion:         tls.VersionTLS10,
	}
	if _, err := netip.ParseAddr(host); err != nil {
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		ep.TLSError = "TLS handshake: " + err.Error()
		return ep
	}
	st := tc.ConnectionState()
	ep.TLS = &TLSInfo{Version: tls.VersionName(st.Version), CipherSuite: tls.CipherSuiteName(st.CipherSuite)}
	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		sum := sha256.Sum256(leaf.Raw)
		ep.TLS.Subject, ep.TLS.SHA256 = leaf.Subject.String(), hex.EncodeToString(sum[:])
	}
	quit(tc)
	return ep
}

// readReply reads one SMTP reply (RFC 5321 section 4.2): lines "ddd-text" then "ddd text".
// It returns the code and the lines, each cut to maxEvidence bytes.
func readReply(br *bufio.Reader) (int, []string, error) {
	var lines []string
	code := 0
	for len(lines) < maxReplyLines {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return code, lines, errors.New("reply line longer than 4096 bytes")
		}
		if err != nil {
			return code, lines, err
		}
		line := strings.TrimRight(string(raw), "\r\n")
		lines = append(lines, line[:min(len(line), maxEvidence)])
		if len(line) < 3 {
			return code, lines, fmt.Errorf("malformed reply line %q", line)
		}
		c, err := strconv.Atoi(line[:3])
		if err != nil || c < 200 || c > 599 || code != 0 && c != code {
			return code, lines, fmt.Errorf("malformed reply line %q", line[:min(len(line), 40)])
		}
		code = c
		if len(line) == 3 || line[3] == ' ' {
			return code, lines, nil
		}
		if line[3] != '-' {
			return code, lines, fmt.Errorf("malformed reply line %q", line[:min(len(line), 40)])
		}
	}
	return code, lines, fmt.Errorf("reply longer than %d lines", maxReplyLines)
}

// dialAddr joins an address and port.
func dialAddr(a netip.Addr, port int) netip.AddrPort {
	return netip.AddrPortFrom(a, uint16(port))
}
