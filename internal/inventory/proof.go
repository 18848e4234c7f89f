package inventory

import (
	"fmt"
	"strings"

	"github.com/khien-vn/khien/internal/errs"
)

// A failed ownership proof is shown to the person who published the challenge, in their
// language, method by method: the DNS record was there but held another value, the HTTP file
// answered 404, the database could not be reached. The prover (in the scope package, the
// database one in data) fills a ProofError with what each method found; the pages and the
// API read its attempts, the log its English text.

// Text is a message in Vietnamese (first) and English. It is check.Text's twin: inventory
// cannot import check, which imports inventory.
type Text struct {
	VI string `json:"vi"`
	EN string `json:"en"`
}

// The methods of an ownership proof.
const (
	ProofDNSTXT = "dns-txt"
	ProofHTTP   = "http"
	ProofDB     = "db"
)

// ProofOutcome says, as a stable code, why one method of a proof did not succeed.
type ProofOutcome string

// The outcomes a prover distinguishes. Add codes, never rename them: API clients match them.
const (
	OutcomeNoResolver       ProofOutcome = "no-resolver"        // no DNS resolver is configured
	OutcomeLookupFailed     ProofOutcome = "lookup-failed"      // the TXT query failed (no such name, no answer)
	OutcomeRecordMissing    ProofOutcome = "record-missing"     // TXT records answered (Seen of them), none is the value
	OutcomeRefusedByScope   ProofOutcome = "refused-by-scope"   // the safety fence refused the address: nothing was sent
	OutcomeHTTPUnreachable  ProofOutcome = "http-unreachable"   // no HTTP answer (connection refused, timeout, bad URL)
	OutcomeHTTPStatus       ProofOutcome = "http-status"        // the URL answered Status, not 200
	OutcomeHTTPBodyMismatch ProofOutcome = "http-body-mismatch" // 200, but the body is not the token
	OutcomeDBNotConfigured  ProofOutcome = "db-not-configured"  // this server proves no database ownership
	OutcomeDBNoCredentials  ProofOutcome = "db-no-credentials"  // no credentials for the database
	OutcomeDBUnreachable    ProofOutcome = "db-unreachable"     // cannot connect to or query the database
	OutcomeDBTokenMissing   ProofOutcome = "db-token-missing"   // connected, but the value is not there
)

// ProofAttempt is what one method of a proof looked at and found.
type ProofAttempt struct {
	Method   string       // ProofDNSTXT, ProofHTTP or ProofDB
	Target   string       // the DNS name, the URL or the database (without credentials) looked at
	Outcome  ProofOutcome // why it did not prove ownership
	Expected string       // the value that was looked for (the TXT value, the token)
	Seen     int          // OutcomeRecordMissing: how many TXT records were there
	Status   int          // OutcomeHTTPStatus: the HTTP status answered
	Detail   string       // the prover's own account, in English, for the log
	Err      error        // the cause, if any (the fence's refusal, the driver's error); only logged
}

// Reason says in both languages why the attempt did not prove ownership and what to look at.
// It is built from the outcome and the target only, never from Detail or Err, whose words
// come from resolvers, servers and drivers and are in English (or worse) whatever the page.
func (a ProofAttempt) Reason() Text {
	t := a.Target
	switch a.Outcome {
	case OutcomeNoResolver:
		return Text{
			"Máy chủ Khiên chưa cấu hình máy phân giải DNS nên không tra được bản ghi TXT tại " + t + "; hãy dùng cách tệp HTTP hoặc nhờ quản trị viên cấu hình --resolver.",
			"This Khiên server has no DNS resolver configured, so the TXT record at " + t + " was not looked up; use the HTTP file instead or ask the administrator to set --resolver."}
	case OutcomeLookupFailed:
		return Text{
			"Không tra được bản ghi TXT tại " + t + ": tên này chưa tồn tại hoặc máy chủ DNS không trả lời. Kiểm tra lại tên bản ghi; bản ghi mới có thể cần vài phút mới có hiệu lực.",
			"The TXT lookup of " + t + " failed: the name does not exist or the DNS server did not answer. Check the record's name; a new record may take a few minutes to take effect."}
	case OutcomeRecordMissing:
		if a.Seen == 0 {
			return Text{
				"Không tìm thấy bản ghi TXT " + a.Expected + " tại " + t + " (tên này không có bản ghi TXT nào).",
				"No TXT record " + a.Expected + " at " + t + " (the name has no TXT record at all)."}
		}
		return Text{
			fmt.Sprintf("Không tìm thấy bản ghi TXT %s tại %s (thấy %d bản ghi khác).", a.Expected, t, a.Seen),
			fmt.Sprintf("No TXT record %s at %s (%d other record(s) found).", a.Expected, t, a.Seen)}
	case OutcomeRefusedByScope:
		if a.Method == ProofDNSTXT {
			// The lookup goes to the configured resolver, not to t: it is the resolver that
			// lies outside the fence, a setting of the Khiên server.
			return Text{
				"Khiên không tra " + t + " vì máy chủ DNS nó được cấu hình để dùng (--resolver) nằm ngoài vùng mạng được phép; không truy vấn nào được gửi. Đây là cấu hình của máy chủ Khiên: hãy báo quản trị viên.",
				"Khiên did not look " + t + " up: the DNS resolver it is configured with (--resolver) lies outside the permitted network fence, so no query was sent. This is a setting of the Khiên server: tell its administrator."}
		}
		return Text{
			"Khiên không kết nối tới " + t + " vì địa chỉ của nó nằm ngoài vùng mạng được phép; không có gì được gửi đi.",
			"Khiên did not connect to " + t + ": its address lies outside the permitted network fence; nothing was sent."}
	case OutcomeHTTPUnreachable:
		return Text{
			"Không kết nối được tới " + t + " qua HTTP thường (cổng 80 đóng, quá thời gian chờ hoặc tên không phân giải được).",
			"Could not reach " + t + " over plain HTTP (port 80 closed, a timeout, or the name did not resolve)."}
	case OutcomeHTTPStatus:
		return Text{
			fmt.Sprintf("%s trả về mã trạng thái %d thay vì 200; hãy đặt tệp đúng đường dẫn này, không chuyển hướng.", t, a.Status),
			fmt.Sprintf("%s answered status %d instead of 200; serve the file at exactly this path, without a redirect.", t, a.Status)}
	case OutcomeHTTPBodyMismatch:
		return Text{
			t + " trả về mã 200 nhưng nội dung không phải mã thử thách; tệp chỉ được chứa đúng một dòng là mã đó.",
			t + " answered 200 but its content is not the challenge token; the file must hold exactly one line, the token."}
	case OutcomeDBNotConfigured:
		return Text{
			"Máy chủ này chưa cấu hình kiểm chứng quyền sở hữu cơ sở dữ liệu nên không đọc được " + t + "; quản trị viên có thể gán tài nguyên kèm lý do.",
			"Database ownership proofs are not configured on this server, so " + t + " was not read; an administrator can assign the resource with a reason."}
	case OutcomeDBNoCredentials:
		return Text{
			"Khiên chưa có thông tin đăng nhập cho cơ sở dữ liệu " + t + " (--db-passfile); hãy nhờ quản trị viên bổ sung.",
			"Khiên has no credentials for the database " + t + " (--db-passfile); ask the administrator to add them."}
	case OutcomeDBUnreachable:
		return Text{
			"Không kết nối hoặc không đọc được cơ sở dữ liệu " + t + " bằng tài khoản Khiên dùng để quét.",
			"Could not connect to or read the database " + t + " with the account Khiên scans with."}
	case OutcomeDBTokenMissing:
		return Text{
			"Không tìm thấy giá trị " + a.Expected + " trong cơ sở dữ liệu " + t + "; hãy chạy câu lệnh SQL ở trên rồi thử lại.",
			"The value " + a.Expected + " is not in the database " + t + "; run the SQL above and try again."}
	}
	return Text{
		"Chưa chứng minh được quyền sở hữu qua " + t + ".",
		"Ownership was not proven through " + t + "."}
}

// ProofError says that ownership of Resource is not proven, and what each method tried. It is
// an Invalid error (errs.Is(err, errs.Invalid)) whose message is the English account of the
// attempts, unless Err speaks for it.
type ProofError struct {
	Resource string
	Attempts []ProofAttempt
	// Err, when set, gives the error its kind and user-safe message: a database prover's own
	// account (bilingual, naming what it read) and the fence's refusal (out of scope) keep
	// the words and the kind they had before the attempts were typed.
	Err error
}

// Error is the English account of the attempts, as the log and API clients have read it.
func (e *ProofError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	details := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		details[i] = a.Detail
	}
	return fmt.Sprintf("ownership of %s is not proven: %s", e.Resource, strings.Join(details, "; "))
}

// Unwrap returns what gives the error its kind (Err, or an Invalid errs.Error with the
// English account) and then the causes of the attempts, so that errors.Is finds them.
func (e *ProofError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Err}
	}
	out := []error{errs.E(errs.Invalid, "%s", e.Error())}
	for _, a := range e.Attempts {
		if a.Err != nil {
			out = append(out, a.Err)
		}
	}
	return out
}
