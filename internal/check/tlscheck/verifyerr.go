package tlscheck

import (
	"strings"

	"github.com/khien-vn/khien/internal/check"
)

// verifyCauses maps the stable parts of crypto/x509's verification messages (and of
// verifySHA1's) to what they mean in Vietnamese, as the predicate of "the certificate …".
// The observation keeps the verification as text (Cert.VerifyError and its variants, which a
// grading picks among, and httpcheck's TLSState), so the cause is read back from the text;
// verifyerr_test.go produces each message from real certificates and fails when Go rewords
// one. Order matters: an unknown authority "possibly because of" an insecure algorithm, or
// of an issuer that is no certificate authority, is that cause.
var verifyCauses = []struct{ fragment, vi string }{
	{"the SHA-1 signature of", "có chữ ký SHA-1 không hợp lệ"},
	{"is signed with SHA-1 by", "được ký SHA-1 bởi một tổ chức cấp mà máy chủ không gửi kèm"},
	{"too many SHA-1 signatures", "có quá nhiều chữ ký SHA-1 trong chuỗi"},
	{"insecure algorithm", "được ký bằng thuật toán chữ ký không còn an toàn (như SHA-1)"},
	{"parent certificate cannot sign this kind of certificate", "được ký bởi một chứng thư không có quyền cấp chứng thư"},
	{"certificate signed by unknown authority", "do tổ chức cấp chứng thư không được tin cậy ký"},
	{"certificate has expired or is not yet valid", "đã hết hạn hoặc chưa đến ngày có hiệu lực"},
	{"relies on legacy Common Name field", "chỉ ghi tên máy ở trường Common Name cũ, không có trong tên thay thế (SAN)"},
	{"certificate is valid for", "không cấp cho tên máy này"},
	{"certificate is not valid for any names", "không cấp cho tên máy này"},
	{"doesn't contain any IP SANs", "không cấp cho địa chỉ IP này"},
	{"incompatible key usage", "không được phép dùng cho máy chủ (mục đích sử dụng khóa không phù hợp)"},
	{"too many intermediates for path length constraint", "có quá nhiều chứng thư trung gian so với giới hạn độ dài chuỗi"},
	{"not authorized to sign other certificates", "được ký bởi một chứng thư không có quyền cấp chứng thư"},
	{"not authorized to sign for this name", "nằm ngoài phạm vi tên mà tổ chức cấp được phép ký"},
	{"the server sent no certificate", "không được máy chủ gửi"},
}

// VerifyErrorVI says in Vietnamese why a certificate does not verify, from the text of the
// verification error (as crypto/x509 or verifySHA1 wrote it): the predicate of "chứng thư
// số …", e.g. "do tổ chức cấp chứng thư không được tin cậy ký". A message it does not know
// reads as "không xác minh được (chi tiết ở bằng chứng)": the English text stays in the
// English reason and the evidence. It returns "" for "".
func VerifyErrorVI(msg string) string {
	if msg == "" {
		return ""
	}
	for _, c := range verifyCauses {
		if strings.Contains(msg, c.fragment) {
			return c.vi
		}
	}
	return "không xác minh được (chi tiết ở bằng chứng)"
}

// genericVI is the Vietnamese of an error no one described when it was recorded.
const genericVI = "lỗi kỹ thuật (chi tiết ở bằng chứng)"

// vi returns t's Vietnamese, or genericVI when t was never set (an observation built by
// hand, as the table tests do).
func vi(t check.Text) string {
	if t.VI == "" {
		return genericVI
	}
	return t.VI
}
