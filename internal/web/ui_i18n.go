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

	// Sign-in through an OpenID Connect provider (oidc.go).
	"login.or":             {"hoặc", "or"},
	"login.oidc":           {"Đăng nhập bằng", "Sign in with"},
	"oidc.unavailable":     {"Không kết nối được nhà cung cấp định danh; hãy thử lại sau hoặc đăng nhập bằng tài khoản cục bộ.", "The identity provider cannot be reached; try again later or sign in with a local account."},
	"oidc.totp.title":      {"Xác thực hai yếu tố", "Second factor"},
	"oidc.totp.intro":      {"Nhà cung cấp định danh không xác nhận yếu tố thứ hai; tài khoản quản trị cần nhập mã xác thực của Khiên.", "The identity provider did not confirm a second factor; an administrator's account needs its Khiên one-time code."},
	"oidc.totp.code":       {"Mã xác thực (6 số)", "One-time code (6 digits)"},
	"oidc.totp.submit":     {"Xác nhận", "Confirm"},
	"oidc.err.state":       {"Phiên đăng nhập qua nhà cung cấp không khớp với trình duyệt này; hãy bắt đầu lại.", "The sign-in through the provider does not match this browser; start again."},
	"oidc.err.replay":      {"Yêu cầu đăng nhập này đã được dùng hoặc đã hết hạn; hãy bắt đầu lại.", "This sign-in request was used already or has expired; start again."},
	"oidc.err.provider":    {"Nhà cung cấp định danh từ chối đăng nhập.", "The identity provider refused the sign-in."},
	"oidc.err.exchange":    {"Không đổi được mã đăng nhập với nhà cung cấp định danh; hãy thử lại.", "The sign-in code could not be exchanged with the identity provider; try again."},
	"oidc.err.token":       {"Mã định danh của nhà cung cấp không hợp lệ (chữ ký sai).", "The provider's ID token is not valid (bad signature)."},
	"oidc.err.issuer":      {"Mã định danh do một nhà cung cấp khác cấp.", "The ID token was issued by another provider."},
	"oidc.err.audience":    {"Mã định danh được cấp cho một ứng dụng khác.", "The ID token was issued for another application."},
	"oidc.err.expired":     {"Mã định danh đã hết hạn hoặc thời gian không hợp lệ; kiểm tra đồng hồ máy chủ và thử lại.", "The ID token has expired or its times are not valid; check the server clocks and try again."},
	"oidc.err.nonce":       {"Mã định danh không thuộc về yêu cầu đăng nhập này.", "The ID token does not belong to this sign-in request."},
	"oidc.err.unverified":  {"Nhà cung cấp chưa xác minh địa chỉ thư điện tử; hãy nhờ quản trị viên liên kết tài khoản.", "The provider has not verified the e-mail address; ask an administrator to link your account."},
	"oidc.err.noaccount":   {"Không có tài khoản Khiên nào gắn với danh tính này; hãy nhờ quản trị viên tạo hoặc liên kết tài khoản.", "No Khiên account is linked to this identity; ask an administrator to create or link one."},
	"oidc.err.linkedother": {"Tài khoản Khiên này đã gắn với một danh tính khác của nhà cung cấp; hãy nhờ quản trị viên.", "This Khiên account is linked to another identity of the provider; ask an administrator."},
	"oidc.err.disabled":    {"Tài khoản đã bị vô hiệu hóa; hãy nhờ quản trị viên.", "This account is disabled; ask an administrator."},
	"oidc.err.mfa":         {"Tài khoản quản trị cần yếu tố xác thực thứ hai: nhà cung cấp không xác nhận và tài khoản chưa đăng ký mã xác thực.", "An administrator's account needs a second factor: the provider confirmed none and the account has no one-time code enrolled."},
	"oidc.err.totp":        {"Sai mã xác thực; hãy đăng nhập lại từ đầu.", "Wrong one-time code; sign in again from the start."},
	"oidc.err.locked":      {"Quá nhiều lần nhập sai; hãy thử lại sau ít phút.", "Too many wrong codes; try again in a few minutes."},

	// Refusals of a link by e-mail.
	"oidc.err.linkrequired": {"Danh tính của tài khoản quản trị (hoặc tài khoản có mã xác thực) chỉ được liên kết bởi người vận hành: khien user link-oidc; hãy nhờ quản trị viên.", "An administrator's identity (or that of an account with a one-time code) is linked only by an operator: khien user link-oidc; ask an administrator."},
	"oidc.err.emailascii":   {"Địa chỉ thư điện tử có ký tự ngoài ASCII nên không được dùng để liên kết tài khoản; hãy nhờ quản trị viên liên kết.", "The e-mail address has characters outside ASCII, so it is not used to link an account; ask an administrator to link it."},

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
	"empty.assessed.next":  {"Bước tiếp theo: xác minh quyền sở hữu tài nguyên (liên kết «Xác minh quyền sở hữu» trong bảng tài nguyên ở trang hệ thống) hoặc để quản trị viên giao phạm vi, rồi bấm «Quét ngay» ở trang hệ thống.", "Next step: verify ownership of a resource (the “Verify ownership” link in the resources table of the system's page) or have an administrator assign it, then press “Scan now” on the system's page."},
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

	// The ownership page of a resource (ui_verify.go).
	"verify.title":       {"Xác minh quyền sở hữu", "Verify ownership"},
	"verify.link":        {"Xác minh quyền sở hữu", "Verify ownership"},
	"verify.intro":       {"Khiên chỉ quét tài nguyên đã được xác minh hoặc được giao. Để chứng minh đơn vị bạn kiểm soát tài nguyên này, hãy công bố mã thử thách dưới đây theo một trong các cách sau, rồi bấm «Kiểm tra ngay».", "Khiên scans only resources that are verified or assigned. To prove your organization controls this resource, publish the challenge below in one of these ways, then press “Check now”."},
	"verify.dns":         {"Cách 1: bản ghi DNS TXT", "Option 1: a DNS TXT record"},
	"verify.dns.name":    {"Tên bản ghi", "Record name"},
	"verify.dns.type":    {"Loại", "Type"},
	"verify.dns.value":   {"Giá trị", "Value"},
	"verify.http":        {"Tệp HTTP", "An HTTP file"},
	"verify.http.or":     {"Cách 2: tệp HTTP", "Option 2: an HTTP file"},
	"verify.http.url":    {"Phục vụ qua HTTP thường (không chuyển hướng) tại", "Serve over plain HTTP (no redirect) at"},
	"verify.http.body":   {"Nội dung tệp, đúng một dòng", "File content, exactly one line"},
	"verify.db":          {"Giá trị trong cơ sở dữ liệu", "A value in the database"},
	"verify.db.how":      {"Chạy câu lệnh SQL dưới đây trên cơ sở dữ liệu; Khiên sẽ đọc lại bằng tài khoản dùng để quét:", "Run the SQL below on the database; Khiên reads it back with the account it scans with:"},
	"verify.submit":      {"Kiểm tra ngay", "Check now"},
	"verify.issue":       {"Nhận mã thử thách", "Get the challenge"},
	"verify.hint":        {"Bản ghi DNS có thể cần vài phút mới có hiệu lực. Mã thử thách giữ nguyên cho đến khi xác minh xong.", "A DNS record may take a few minutes to take effect. The challenge stays the same until the resource is verified."},
	"verify.already":     {"Tài nguyên này đã được xác minh; không cần làm gì thêm.", "This resource is verified already; there is nothing more to do."},
	"verify.done":        {"Đã xác minh quyền sở hữu; tài nguyên đã vào phạm vi quét.", "Ownership is verified; the resource is now in scope for scanning."},
	"verify.failed":      {"Chưa chứng minh được quyền sở hữu: Khiên không tìm thấy mã thử thách ở bản ghi DNS TXT, tệp HTTP hay trong cơ sở dữ liệu. Kiểm tra giá trị đã công bố (bản ghi DNS có thể cần vài phút) rồi thử lại.", "Ownership is not proven: Khiên found the challenge neither in the DNS TXT record, nor in the HTTP file, nor in the database. Check what was published (a DNS record may take a few minutes) and try again."},
	"verify.why":         {"Chưa chứng minh được quyền sở hữu. Khiên đã thử:", "Ownership is not proven. What Khiên tried:"},
	"verify.retry":       {"Sửa theo các lý do trên rồi bấm «Kiểm tra ngay» lần nữa; mã thử thách vẫn giữ nguyên.", "Fix what is said above, then press “Check now” again; the challenge stays the same."},
	"verify.none":        {"Chưa có mã thử thách nào cho tài nguyên này; hãy mở trang xác minh quyền sở hữu và bấm «Nhận mã thử thách».", "No challenge was issued for this resource; open its ownership page and press “Get the challenge”."},
	"verify.unavailable": {"Chức năng xác minh quyền sở hữu chưa được cấu hình trên máy chủ này.", "Ownership verification is not configured on this server."},
	"system.owner":       {"Đơn vị chủ quản", "Owner"},
	"system.index":       {"Chỉ số hệ thống", "System index"},

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
	"family.tls":      {"TLS và chứng thư số", "TLS and certificates"},
	"family.http":     {"HTTP và tiêu đề bảo mật", "HTTP and security headers"},
	"family.dns":      {"Tên miền (DNS)", "Domain names (DNS)"},
	"family.mail":     {"Thư điện tử (SPF, DMARC, STARTTLS)", "E-mail (SPF, DMARC, STARTTLS)"},
	"family.exposure": {"Tệp và dịch vụ bị lộ", "Exposed files and services"},
	"family.vuln":     {"Lỗ hổng đã bị khai thác", "Known exploited vulnerabilities"},
	"family.data":     {"Dữ liệu cá nhân, bí mật và thông tin xác thực", "Personal data, secrets and credentials"},
	"family.datasec":  {"Quét dữ liệu (tệp, cơ sở dữ liệu)", "Data scanning (files, databases)"},
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

	// The administration pages: audit log, accounts, API tokens (ui_admin.go).
	"nav.menu":    {"Danh mục", "Menu"},
	"nav.audit":   {"Nhật ký kiểm toán", "Audit log"},
	"nav.users":   {"Tài khoản", "Users"},
	"nav.tokens":  {"Mã truy cập API", "API tokens"},
	"pager.label": {"Phân trang", "Pages"},
	"pager.prev":  {"Trang trước", "Previous"},
	"pager.next":  {"Trang sau", "Next"},

	"audit.title":         {"Nhật ký kiểm toán", "Audit log"},
	"audit.intact":        {"Chuỗi băm nguyên vẹn: đã kiểm tra", "The hash chain is intact: checked"},
	"audit.intact.scoped": {"Chuỗi băm của toàn bộ nhật ký nguyên vẹn: mục nào cũng nối với mục trước.", "The hash chain of the whole log is intact: each entry is chained to the one before."},
	"audit.entries":       {"mục, mục nào cũng nối với mục trước.", "entries, each chained to the one before."},
	"audit.broken":        {"Nhật ký kiểm toán đã bị sửa hoặc xóa: chuỗi băm đứt tại mục", "The audit log was edited or deleted: the hash chain breaks at entry"},
	"audit.broken.next":   {"Hãy báo ngay cho quản trị viên nền tảng; lệnh khien audit verify cho biết chi tiết.", "Tell the platform administrator at once; khien audit verify gives the details."},
	"audit.verified.at":   {"Kiểm tra toàn bộ chuỗi lần cuối lúc", "The whole chain was last checked at"},
	"audit.verify.now":    {"Kiểm tra lại ngay", "Check again now"},
	"audit.verifyfailed":  {"Không kiểm tra được chuỗi băm lúc này; đã ghi nhật ký. Hãy thử lại.", "The hash chain could not be checked now; it was logged. Try again."},
	"audit.actor.hint":    {"tên đăng nhập", "login"},
	"audit.action":        {"Hành động", "Action"},
	"audit.kind":          {"Loại đối tượng", "Object kind"},
	"audit.from":          {"Từ ngày", "From"},
	"audit.to":            {"Đến ngày", "To"},
	"audit.path":          {"thuộc", "under"},
	"audit.field":         {"Trường", "Field"},
	"audit.before":        {"Trước", "Before"},
	"audit.after":         {"Sau", "After"},
	"audit.hash":          {"Mã băm:", "Hash:"},
	"audit.prev":          {"Mã băm của mục trước:", "Previous hash:"},
	"empty.audit":         {"Không có mục nhật ký nào khớp bộ lọc.", "No audit entry matches the filters."},

	"kind.attestation":    {"Chứng thực", "Attestation"},
	"kind.finding":        {"Phát hiện", "Finding"},
	"kind.gate_exception": {"Ngoại lệ cổng vận hành", "Gate exception"},
	"kind.incident":       {"Sự cố", "Incident"},
	"kind.inventory":      {"Danh mục tài sản", "Inventory"},
	"kind.organization":   {"Tổ chức", "Organization"},
	"kind.resource":       {"Tài nguyên", "Resource"},
	"kind.system":         {"Hệ thống", "System"},
	"kind.token":          {"Mã truy cập API", "API token"},
	"kind.user":           {"Tài khoản", "User"},

	"users.title":        {"Tài khoản trong phạm vi", "Users in your scope"},
	"users.add":          {"Thêm tài khoản", "Add a user"},
	"users.add.hint":     {"Mật khẩu ban đầu được tạo ngẫu nhiên và chỉ hiện một lần; quản trị viên còn nhận mã QR của yếu tố xác thực thứ hai.", "The first password is random and shown once; administrators also get their second factor's URI."},
	"users.create":       {"Tạo tài khoản", "Create user"},
	"users.mfa":          {"Xác thực hai yếu tố", "Second factor"},
	"users.lastlogin":    {"Đăng nhập gần nhất", "Last sign-in"},
	"users.via.password": {"bằng mật khẩu", "with a password"},
	"users.via.oidc":     {"qua nhà cung cấp định danh (OIDC)", "through the identity provider (OIDC)"},
	"users.actions":      {"Thao tác", "Actions"},
	"users.save":         {"Lưu", "Save"},
	"users.active":       {"Đang hoạt động", "Active"},
	"users.disabled":     {"Đã khóa", "Locked"},
	"users.throttled":    {"Tạm khóa do đăng nhập sai đến", "Locked after failed sign-ins until"},
	"users.resetmfa":     {"Cấp lại mã xác thực", "Reset second factor"},
	"users.resetpw":      {"Đặt lại mật khẩu", "Reset password"},
	"users.lock":         {"Khóa", "Lock"},
	"users.unlock":       {"Mở khóa", "Unlock"},
	"users.updated":      {"Đã lưu thay đổi của tài khoản.", "The account is updated."},
	"users.lockeddone":   {"Đã khóa tài khoản; các phiên của nó đã kết thúc.", "The account is locked; its sessions are ended."},
	"users.unlockeddone": {"Đã mở khóa tài khoản.", "The account is unlocked."},
	"empty.users":        {"Chưa có tài khoản nào trong phạm vi của bạn.", "There is no account within your scope yet."},

	"once.title":    {"Thông tin đăng nhập của", "Sign-in details of"},
	"once.warning":  {"Chỉ hiện một lần: hãy chuyển cho người dùng qua kênh an toàn ngay bây giờ.", "Shown this once: hand it to the user over a safe channel now."},
	"once.password": {"Mật khẩu:", "Password:"},
	"once.totp":     {"Thêm vào ứng dụng xác thực:", "Add to an authenticator app:"},

	"admin.invalid":  {"Dữ liệu chưa hợp lệ ở trường:", "Please correct the field:"},
	"field.login":    {"Tên đăng nhập", "Login"},
	"field.name":     {"Tên hiển thị", "Name"},
	"field.role":     {"Vai trò", "Role"},
	"field.org":      {"Phạm vi (mã tổ chức)", "Scope (organization code)"},
	"field.password": {"Mật khẩu", "Password"},
	"field.disabled": {"Khóa tài khoản", "Locked"},
	"field.actions":  {"Quyền", "Actions"},
	"field.expires":  {"Hết hạn", "Expires"},
	"field.other":    {"khác", "other"},

	"role.platform_admin":   {"Quản trị nền tảng", "Platform administrator"},
	"role.org_admin":        {"Quản trị tổ chức", "Organization administrator"},
	"role.security_officer": {"Cán bộ an toàn thông tin", "Security officer"},
	"role.auditor":          {"Kiểm toán viên (chỉ đọc)", "Auditor (read-only)"},
	"role.leader":           {"Lãnh đạo", "Leader"},

	"tokens.title":       {"Mã truy cập API", "API tokens"},
	"tokens.add":         {"Tạo mã truy cập mới", "Create a token"},
	"tokens.name.hint":   {"dùng cho việc gì", "what it is for"},
	"tokens.scope":       {"Phạm vi", "Scope"},
	"tokens.create":      {"Tạo mã", "Create token"},
	"tokens.created":     {"Đã tạo mã truy cập", "Token created"},
	"tokens.once":        {"Chỉ hiện một lần: hãy sao chép mã bí mật vào nơi lưu trữ bí mật của quy trình ngay bây giờ.", "Shown this once: copy the secret into your pipeline's secret store now."},
	"tokens.subtree":     {"Các mã truy cập trong phạm vi", "Tokens in your scope"},
	"tokens.mine":        {"Mã truy cập của bạn", "Your tokens"},
	"tokens.token":       {"Mã", "Token"},
	"tokens.owner":       {"Chủ sở hữu", "Owner"},
	"tokens.created.at":  {"Ngày tạo", "Created"},
	"tokens.lastused":    {"Dùng gần nhất", "Last used"},
	"tokens.you":         {"Bạn", "You"},
	"tokens.platform":    {"Toàn nền tảng", "Whole platform"},
	"tokens.noexpiry":    {"Không hết hạn", "Does not expire"},
	"tokens.revoked":     {"Đã thu hồi", "Revoked"},
	"tokens.revoke":      {"Thu hồi", "Revoke"},
	"tokens.revokeddone": {"Đã thu hồi mã truy cập; nó ngừng hoạt động ngay.", "The token is revoked; it stopped working at once."},
	"empty.tokens":       {"Chưa có mã truy cập nào.", "There is no token yet."},

	"action.inventory:read":  {"đọc danh mục", "read the inventory"},
	"action.inventory:write": {"sửa danh mục", "change the inventory"},
	"action.findings:read":   {"đọc phát hiện", "read findings"},
	"action.findings:write":  {"xử lý phát hiện", "handle findings"},
	"action.scan:run":        {"chạy quét", "run scans"},
	"action.controls:read":   {"đọc biện pháp kiểm soát", "read controls"},
	"action.controls:write":  {"chứng thực biện pháp", "attest controls"},
	"action.index:read":      {"đọc chỉ số", "read the index"},
	"action.gate:read":       {"đọc cổng vận hành", "read the gate"},
	"action.gate:decide":     {"xét cổng vận hành", "decide the gate"},
	"action.audit:read":      {"đọc nhật ký kiểm toán", "read the audit log"},
	"action.users:manage":    {"quản lý tài khoản", "manage users"},
	"action.metrics:read":    {"đọc số liệu vận hành", "read metrics"},
}
