package dnscheck

import (
	"fmt"
	"strings"
)

// failureVI is failure (why a query got no usable answer) in Vietnamese.
func failureVI(q Query) string {
	if q.Error != "" {
		return errorVI(q.Error)
	}
	return fmt.Sprintf("máy chủ phân giải trả lời %s cho %s %s", q.Rcode, q.Name, q.Type)
}

// errorCauses map the stable parts of Go's network and TLS error text to Vietnamese. The
// observation keeps each error as text (it is evidence, with its JSON fields), so the
// Vietnamese reason reads the cause back from it; the English reason and the evidence keep
// the text itself. Order matters: the first fragment found decides.
var errorCauses = []struct{ fragment, vi string }{
	{"outside the authorized scope", "địa chỉ nằm ngoài phạm vi được phép quét"},
	{"connection refused", "máy đích từ chối kết nối"},
	{"i/o timeout", "hết thời gian chờ: máy đích không trả lời kịp"},
	{"deadline exceeded", "hết thời gian chờ: máy đích không trả lời kịp"},
	{"no such host", "tên miền không phân giải được"},
	{"NXDOMAIN", "tên miền không tồn tại (NXDOMAIN)"},
	{"SERVFAIL", "máy chủ phân giải trả lời lỗi (SERVFAIL)"},
	{"connection reset", "máy đích đóng kết nối giữa chừng"},
	{"EOF", "máy đích đóng kết nối giữa chừng"},
	{"broken pipe", "máy đích đóng kết nối giữa chừng"},
	{"x509:", "chứng thư số không xác minh được"},
	{"tls:", "bắt tay TLS thất bại"},
	{"TLS handshake", "bắt tay TLS thất bại"},
	{"no route to host", "không có đường tới máy đích"},
	{"network is unreachable", "không có đường tới máy đích"},
}

// errorVI says in Vietnamese what an error recorded as text (msg) was about, with a pointer
// to the evidence for the detail; "" for "".
func errorVI(msg string) string {
	if msg == "" {
		return ""
	}
	for _, c := range errorCauses {
		if strings.Contains(msg, c.fragment) {
			return c.vi + " (chi tiết ở bằng chứng)"
		}
	}
	return "lỗi kỹ thuật (chi tiết ở bằng chứng)"
}
