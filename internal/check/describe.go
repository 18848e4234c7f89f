package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/khien-vn/khien/internal/resolve"
)

// Describer is an error that can say in both languages what went wrong. An error's own text
// is a technical account in English; a result's reason is read by people in Vietnamese first.
type Describer interface {
	error
	Describe() Text
}

// DescribeError says in Vietnamese and English why an observation could not be made, as the
// cause a person can act on: a closed port, a name that does not resolve, a time-out, an
// address outside the authorized scope. The technical account (err's text) belongs in the
// evidence; the English text ends with it, the Vietnamese one does not mix languages.
func DescribeError(err error) Text {
	if a, ok := errors.AsType[*Attempts](err); ok && len(a.Errs) > 0 {
		var vi, en []string
		for i, e := range a.Errs {
			t := describe(e)
			vi, en = append(vi, a.Where[i]+": "+t.VI), append(en, a.Where[i]+": "+t.EN)
		}
		return Text{VI: strings.Join(vi, "; "), EN: strings.Join(en, "; ") + " (" + err.Error() + ")"}
	}
	t := describe(err)
	if err != nil {
		t.EN += " (" + err.Error() + ")"
	}
	return t
}

// describe is DescribeError of one cause, without err's own text.
func describe(err error) Text {
	var t Text
	var dnsErr *net.DNSError
	var alert tls.AlertError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch d, ok := errors.AsType[Describer](err); {
	case ok:
		t = d.Describe()
	case errors.Is(err, resolve.ErrNoServer):
		t = Text{VI: "chưa cấu hình máy chủ phân giải tên miền (--resolver)", EN: "no DNS resolver configured (--resolver)"}
	case resolve.IsNotFound(err), errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		t = Text{VI: "tên miền không phân giải được (không tồn tại hoặc không có bản ghi địa chỉ)", EN: "the name does not resolve (no such name, or no address records)"}
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		t = Text{VI: "hết thời gian chờ: máy đích không trả lời kịp", EN: "timed out: the target did not answer in time"}
	case errors.Is(err, context.Canceled):
		t = Text{VI: "lần quét bị dừng trước khi quan sát xong", EN: "the scan was stopped before the observation ended"}
	case errors.Is(err, syscall.ECONNREFUSED):
		t = Text{VI: "máy đích từ chối kết nối (cổng đóng hoặc dịch vụ không chạy)", EN: "connection refused (the port is closed or the service is not running)"}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		t = Text{VI: "không có đường tới máy đích", EN: "no route to the target"}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		t = Text{VI: "máy đích đóng kết nối giữa chừng", EN: "the target closed the connection midway"}
	case errors.As(err, &alert), isRemoteAlert(err):
		t = Text{VI: "máy đích từ chối bắt tay TLS", EN: "the target refused the TLS handshake"}
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		t = Text{VI: "chứng thư số của máy đích không được tin cậy", EN: "the target's certificate is not trusted"}
	default:
		t = Text{VI: "lỗi kỹ thuật khi kết nối hoặc đọc câu trả lời (chi tiết ở bằng chứng)", EN: "a technical error while connecting or reading the answer"}
	}
	return t
}

// isRemoteAlert reports a TLS alert the peer sent: crypto/tls reports it as a net.OpError
// whose Op is "remote error" (tls.AlertError is only for QUIC).
func isRemoteAlert(err error) bool {
	oe, ok := errors.AsType[*net.OpError](err)
	return ok && oe.Op == "remote error"
}

// isTimeout reports a network time-out anywhere in err's chain.
func isTimeout(err error) bool {
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// Attempts is the error of an observation that tried several ways in (https and http, each
// address) and got no answer from any: its text lists each attempt, errors.Is and errors.As
// see every cause, and DescribeError says each in both languages.
type Attempts struct {
	What  string   // "no web server answered"
	Where []string // what each attempt tried: "https://x.vn/"
	Errs  []error  // why it failed, in the same order
}

// Add records one failed attempt.
func (a *Attempts) Add(where string, err error) {
	a.Where, a.Errs = append(a.Where, where), append(a.Errs, err)
}

func (a *Attempts) Error() string {
	parts := make([]string, len(a.Errs))
	for i, e := range a.Errs {
		parts[i] = a.Where[i] + ": " + e.Error()
	}
	return a.What + ": " + strings.Join(parts, "; ")
}

// Unwrap returns the causes.
func (a *Attempts) Unwrap() []error { return a.Errs }
