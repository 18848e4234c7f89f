package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/khien-vn/khien/internal/check"
)

// The pages speak Vietnamese by default and English when the lang cookie says so. Every word
// a page shows comes from messages, so a page is never half in one language and half in the
// other; texts that come with the data (check titles, index explanations) are check.Text
// pairs, read with the same language.

// lang is a language of the pages.
type lang string

const (
	langVI lang = "vi"
	langEN lang = "en"
)

// langCookie remembers the language a user chose with the switch.
const langCookie = "lang"

// langOf is the language of a request: the cookie set by the switch, else Vietnamese.
func langOf(r *http.Request) lang {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == string(langEN) {
		return langEN
	}
	return langVI
}

// msg is one string of the pages in both languages.
type msg struct{ vi, en string }

// tr returns the text of key in l. A missing key shows as itself, which a test forbids.
func tr(l lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if l == langEN {
		return m.en
	}
	return m.vi
}

// local picks the language l of a text that comes with the data.
func local(l lang, t check.Text) string {
	if l == langEN || t.VI == "" {
		return t.EN
	}
	return t.VI
}

// number formats x with one decimal: a decimal comma in Vietnamese, a point in English.
func number(l lang, x float64) string {
	s := strconv.FormatFloat(x, 'f', 1, 64)
	if l == langVI {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// messages is the catalog of the pages.
var messages = map[string]msg{
	"app.name":     {"Khiên", "Khiên"},
	"app.tagline":  {"Bảo đảm an toàn thông tin", "Cybersecurity assurance"},
	"nav.tree":     {"Cây tổ chức", "Organizations"},
	"nav.findings": {"Phát hiện", "Findings"},
	"nav.signout":  {"Đăng xuất", "Sign out"},
	"nav.lang":     {"English", "Tiếng Việt"},
	"nav.skip":     {"Chuyển đến nội dung", "Skip to content"},
	"nav.signedin": {"Đang đăng nhập", "Signed in as"},

	"login.title":    {"Đăng nhập", "Sign in"},
	"login.login":    {"Tên đăng nhập", "Login"},
	"login.password": {"Mật khẩu", "Password"},
	"login.totp":     {"Mã xác thực (6 số, nếu có)", "One-time code (6 digits, if enrolled)"},
	"login.submit":   {"Đăng nhập", "Sign in"},
	"login.failed":   {"Sai tên đăng nhập, mật khẩu hoặc mã xác thực.", "Wrong login, password or one-time code."},
	"login.locked":   {"Quá nhiều lần đăng nhập sai; hãy thử lại sau ít phút.", "Too many failed sign-ins; try again in a few minutes."},
	"login.nomfa":    {"Tài khoản này cần yếu tố xác thực thứ hai nhưng chưa đăng ký; hãy nhờ quản trị viên.", "This account needs a second factor and has none; ask an administrator."},

	"tree.title":    {"Cây tổ chức", "Organization tree"},
	"tree.org":      {"Tổ chức", "Organization"},
	"tree.index":    {"Chỉ số", "Index"},
	"tree.trend":    {"Xu hướng (7 ngày)", "Trend (7 days)"},
	"tree.coverage": {"Độ phủ đánh giá", "Assessment coverage"},
	"tree.grade":    {"Xếp loại", "Grade"},
	"trend.up":      {"tăng", "up"},
	"trend.down":    {"giảm", "down"},
	"trend.flat":    {"không đổi", "unchanged"},

	"grade.excellent": {"Hoàn thành xuất sắc", "Excellent"},
	"grade.good":      {"Hoàn thành tốt", "Good"},
	"grade.meets":     {"Hoàn thành", "Meets"},
	"grade.fails":     {"Không hoàn thành", "Fails"},

	"empty.inventory":      {"Chưa có tổ chức nào trong phạm vi của bạn.", "There is no organization within your scope yet."},
	"empty.inventory.next": {"Bước tiếp theo: nhập danh mục tài sản bằng lệnh", "Next step: import an inventory with"},
	"empty.assessed":       {"Chưa tài nguyên nào được đánh giá.", "No resource has been assessed yet."},
	"empty.assessed.next":  {"Bước tiếp theo: xác minh quyền sở hữu tên miền (bản ghi DNS TXT) hoặc để quản trị viên giao phạm vi, rồi bấm «Quét ngay» ở trang hệ thống.", "Next step: verify a domain (a DNS TXT record) or have an administrator assign it, then press “Scan now” on the system's page."},
	"empty.systems":        {"Tổ chức này chưa có hệ thống thông tin nào.", "This organization has no information system yet."},
	"empty.resources":      {"Hệ thống này chưa có tài nguyên nào; hãy thêm tên miền, địa chỉ hoặc URL vào danh mục.", "This system has no resource yet; add its domains, addresses or URLs to the inventory."},
	"empty.findings":       {"Không có phát hiện nào khớp bộ lọc.", "No finding matches the filters."},
	"empty.history":        {"Chưa có lịch sử.", "No history yet."},
	"empty.attest":         {"Chưa có chứng thực biện pháp kiểm soát nào.", "No control has been attested yet."},

	"org.title":     {"Tổ chức", "Organization"},
	"org.breakdown": {"Thành phần chỉ số", "Index breakdown"},
	"org.chart":     {"Chỉ số theo thời gian (12 tuần)", "Index over time (12 weeks)"},
	"org.systems":   {"Hệ thống thông tin", "Information systems"},
	"org.ranking":   {"Xếp hạng các đơn vị trực thuộc", "Ranking of the subtree"},
	"org.rank":      {"Hạng", "Rank"},
	"org.parent":    {"Cấp trên", "Parent"},
	"org.explain":   {"Giải thích", "Explanation"},
	"org.pending":   {"Chỉ số đang được hoàn thiện; tạm hiển thị số phát hiện.", "The index is being finished; finding counts are shown meanwhile."},
	"col.source":    {"Nguồn", "Source"},
	"col.weight":    {"Trọng số", "Weight"},
	"col.score":     {"Điểm", "Score"},
	"col.points":    {"Đóng góp", "Points"},
	"col.system":    {"Hệ thống", "System"},
	"col.level":     {"Cấp độ", "Level"},
	"col.stage":     {"Giai đoạn", "Stage"},
	"col.gate":      {"Cổng vận hành", "Go-live gate"},
	"col.open":      {"Phát hiện mở", "Open findings"},
	"col.resource":  {"Tài nguyên", "Resource"},
	"col.scope":     {"Phạm vi", "Scope"},
	"col.lastscan":  {"Lần đánh giá gần nhất", "Last assessed"},
	"col.check":     {"Kiểm tra", "Check"},
	"col.severity":  {"Mức độ", "Severity"},
	"col.status":    {"Trạng thái", "Status"},
	"col.firstseen": {"Phát hiện lần đầu", "First seen"},
	"col.age":       {"Số ngày", "Age (days)"},
	"col.when":      {"Thời điểm", "When"},
	"col.change":    {"Thay đổi", "Change"},
	"col.actor":     {"Người thực hiện", "By"},
	"col.note":      {"Ghi chú", "Note"},
	"col.control":   {"Biện pháp", "Control"},
	"col.endpoint":  {"Điểm cuối", "Endpoint"},
	"col.expires":   {"Hết hạn", "Expires"},

	"gate.open":    {"Được vận hành", "May operate"},
	"gate.blocked": {"Bị chặn", "Blocked"},
	"gate.notyet":  {"Chưa xét", "Not decided"},
	"gate.history": {"Các quyết định của cổng đã ghi nhận", "Recorded gate decisions"},
	"gate.allowed": {"Được phép", "Allowed"},
	"gate.denied":  {"Không được phép", "Denied"},

	"system.title":     {"Hệ thống", "System"},
	"system.resources": {"Tài nguyên", "Resources"},
	"system.findings":  {"Phát hiện theo nhóm kiểm tra", "Findings by check family"},
	"system.attest":    {"Chứng thực biện pháp kiểm soát", "Control attestations"},
	"system.scan":      {"Quét ngay", "Scan now"},
	"system.scanned":   {"Đã quét xong.", "The scan is done."},
	"system.scanfail":  {"Không quét được: chưa có tài nguyên nào trong phạm vi, hoặc vai trò của bạn không cho phép.", "Could not scan: no resource is in scope, or your role does not allow it."},
	"system.accepted":  {"Đã ghi nhận chấp nhận rủi ro.", "The accepted risk is recorded."},
	"system.owner":     {"Đơn vị chủ quản", "Owner"},
	"system.index":     {"Chỉ số hệ thống", "System index"},

	"accept.title":   {"Chấp nhận rủi ro", "Accept the risk"},
	"accept.reason":  {"Lý do", "Reason"},
	"accept.expires": {"Hết hạn vào ngày", "Expires on"},
	"accept.submit":  {"Chấp nhận rủi ro", "Accept risk"},
	"accept.invalid": {"Cần lý do và ngày hết hạn trong tương lai (tối đa một năm).", "A reason and a future expiry date (at most a year away) are required."},

	"finding.title":   {"Phát hiện", "Finding"},
	"finding.history": {"Lịch sử", "History"},
	"finding.reason":  {"Lý do", "Reason"},
	"finding.remedy":  {"Khắc phục", "Remediation"},

	"findings.title":  {"Phát hiện trong phạm vi", "Findings in your scope"},
	"findings.filter": {"Lọc", "Filter"},
	"findings.csv":    {"Xuất CSV", "Export CSV"},
	"findings.any":    {"Tất cả", "Any"},
	"findings.age":    {"Tuổi tối thiểu (ngày)", "At least (days old)"},
	"findings.family": {"Nhóm kiểm tra", "Check family"},
	"findings.total":  {"Tổng số", "Total"},
	"findings.more":   {"Chỉ hiển thị 500 phát hiện đầu tiên; hãy lọc thêm hoặc xuất CSV.", "Only the first 500 findings are shown; filter further or export CSV."},

	"sev.critical": {"Nghiêm trọng", "Critical"},
	"sev.high":     {"Cao", "High"},
	"sev.medium":   {"Trung bình", "Medium"},
	"sev.low":      {"Thấp", "Low"},
	"sev.info":     {"Thông tin", "Info"},

	"status.open":     {"Đang mở", "Open"},
	"status.reopened": {"Mở lại", "Reopened"},
	"status.accepted": {"Đã chấp nhận rủi ro", "Risk accepted"},
	"status.fixed":    {"Đã khắc phục", "Fixed"},
	"status.new":      {"Mới", "New"},
	"status.resolved": {"Đã khắc phục", "Resolved"},
	"status.expired":  {"Hết hạn chấp nhận", "Acceptance expired"},

	"scope.unverified": {"Chưa xác minh", "Unverified"},
	"scope.assigned":   {"Được giao", "Assigned"},
	"scope.verified":   {"Đã xác minh", "Verified"},

	"stage.planning":  {"Lập kế hoạch", "Planning"},
	"stage.design":    {"Thiết kế", "Design"},
	"stage.build":     {"Xây dựng", "Build"},
	"stage.test":      {"Thử nghiệm", "Test"},
	"stage.operation": {"Vận hành", "Operation"},
	"stage.retired":   {"Ngừng sử dụng", "Retired"},

	"never":   {"Chưa bao giờ", "Never"},
	"none":    {"Không có", "None"},
	"yes":     {"Có", "Yes"},
	"no":      {"Không", "No"},
	"back":    {"Quay lại", "Back"},
	"home":    {"Trang chủ", "Home"},
	"total":   {"Tổng", "Total"},
	"percent": {"%", "%"},

	"err.title":       {"Không thực hiện được", "That did not work"},
	"err.notfound":    {"Không tìm thấy trang hoặc đối tượng này (hoặc nó nằm ngoài phạm vi của bạn).", "This page or object was not found (or it is outside your scope)."},
	"err.forbidden":   {"Vai trò của bạn không cho phép thao tác này.", "Your role does not allow this."},
	"err.invalid":     {"Dữ liệu gửi lên không hợp lệ.", "What was sent is not valid."},
	"err.conflict":    {"Thao tác xung đột với dữ liệu hiện có.", "This conflicts with what is stored."},
	"err.unavailable": {"Chức năng đánh giá chưa được cấu hình trên máy chủ này.", "Assessment is not configured on this server."},
	"err.internal":    {"Lỗi nội bộ; đã ghi nhật ký. Hãy thử lại.", "Internal error; it was logged. Try again."},
	"err.signin":      {"Hãy đăng nhập lại.", "Sign in again."},
}
