// Package demo holds the sample inventory of `khien demo`: a fictional province, Sông Hồng,
// with its People's Committee, departments, two districts and their communes, and systems at
// every security level and lifecycle stage. All names live under the reserved ".test" domain
// so that nothing in the demo can ever point at a real agency or leave the machine.
package demo

import (
	_ "embed"
	"net/netip"
	"strings"

	"github.com/khien-vn/khien/internal/inventory"
)

// Root is the code of the demo province.
const Root = "SH"

// Domain is the suffix of every demo name.
const Domain = "songhong.gov.vn.test"

type sys struct {
	id, org, name, purpose string
	level                  int
	approved               bool
	stage                  inventory.Stage
	classes                []inventory.DataClass
	operator               string
	resources              []res
}

type res struct {
	id     string
	scope  inventory.ScopeStatus
	reason string
}

const assignedBy = "Giao bởi quản trị viên Sở KH&CN theo Quyết định 12/QĐ-SKHCN ngày 05/01/2026"

func a(id string) res { return res{id, inventory.ScopeAssigned, assignedBy} }
func u(id string) res { return res{id, inventory.ScopeUnverified, ""} }

// Inventory returns the sample, organizations parents first.
func Inventory() inventory.Inventory {
	head := func(name, title, contact string) inventory.Person {
		return inventory.Person{Name: name, Title: title, Contact: contact}
	}
	orgs := []inventory.Organization{
		{Code: "SH", Name: "Ủy ban nhân dân tỉnh Sông Hồng", Level: inventory.LevelProvince, Head: head("Nguyễn Văn Hùng", "Chủ tịch UBND tỉnh", "vanphong@"+Domain)},
		{Code: "SH.VP", Name: "Văn phòng UBND tỉnh", Level: inventory.LevelDepartment, Parent: "SH", Head: head("Trần Thị Lan", "Chánh Văn phòng", "vp@"+Domain)},
		{Code: "SH.KHCN", Name: "Sở Khoa học và Công nghệ", Level: inventory.LevelDepartment, Parent: "SH", Head: head("Lê Minh Đức", "Giám đốc Sở", "skhcn@"+Domain)},
		{Code: "SH.YT", Name: "Sở Y tế", Level: inventory.LevelDepartment, Parent: "SH", Head: head("Phạm Thu Hà", "Giám đốc Sở", "syt@"+Domain)},
		{Code: "SH.GDDT", Name: "Sở Giáo dục và Đào tạo", Level: inventory.LevelDepartment, Parent: "SH", Head: head("Hoàng Quốc Việt", "Giám đốc Sở", "sgddt@"+Domain)},
		{Code: "SH.TC", Name: "Sở Tài chính", Level: inventory.LevelDepartment, Parent: "SH", Head: head("Vũ Ngọc Ánh", "Giám đốc Sở", "stc@"+Domain)},
		{Code: "SH.BD", Name: "Khu vực Bắc Đồng (địa bàn huyện Bắc Đồng cũ)", Level: inventory.LevelDistrict, Parent: "SH", Head: head("Đỗ Văn Thắng", "Trưởng khu vực", "bacdong@"+Domain)},
		{Code: "SH.NS", Name: "Khu vực Nam Sơn (địa bàn huyện Nam Sơn cũ)", Level: inventory.LevelDistrict, Parent: "SH", Head: head("Bùi Thị Mai", "Trưởng khu vực", "namson@"+Domain)},
		{Code: "SH.BD.TA", Name: "UBND xã Tân An", Level: inventory.LevelCommune, Parent: "SH.BD", Head: head("Ngô Đình Khải", "Chủ tịch UBND xã", "tanan@"+Domain)},
		{Code: "SH.BD.PH", Name: "UBND phường Phú Hòa", Level: inventory.LevelCommune, Parent: "SH.BD", Head: head("Đặng Thị Hương", "Chủ tịch UBND phường", "phuhoa@"+Domain)},
		{Code: "SH.NS.DL", Name: "UBND xã Đồng Lạc", Level: inventory.LevelCommune, Parent: "SH.NS", Head: head("Lý Văn Bình", "Chủ tịch UBND xã", "donglac@"+Domain)},
	}
	P, S, SS := inventory.DataPersonal, inventory.DataSensitivePersonal, inventory.DataStateSecret
	systems := []sys{
		{"sh-cong-ttdt", "SH.VP", "Cổng thông tin điện tử tỉnh", "Công bố thông tin chỉ đạo, điều hành của tỉnh", 2, true, inventory.StageOperation, nil, "Trung tâm Thông tin - Văn phòng UBND tỉnh",
			[]res{a("dns:" + Domain), a("dns:www." + Domain), a("url:https://www." + Domain + "/"), a("ip:127.77.1.1")}},
		{"sh-dichvucong", "SH.VP", "Cổng dịch vụ công và Hệ thống thông tin giải quyết thủ tục hành chính", "Tiếp nhận, giải quyết hồ sơ thủ tục hành chính", 3, true, inventory.StageOperation, []inventory.DataClass{P, S}, "Trung tâm Phục vụ hành chính công tỉnh",
			[]res{a("dns:dichvucong." + Domain), a("url:https://dichvucong." + Domain + "/"), a("ip:127.77.1.14"), a("db:postgres://db-dvc." + Domain + "/hoso")}},
		{"sh-qlvb", "SH.VP", "Hệ thống quản lý văn bản và điều hành", "Văn bản đi, đến và hồ sơ công việc; có văn bản mật", 4, true, inventory.StageOperation, []inventory.DataClass{P, SS}, "Văn phòng UBND tỉnh",
			[]res{a("dns:qlvb." + Domain), a("url:https://qlvb." + Domain + "/"), a("cidr:127.77.1.16/29")}},
		{"sh-email", "SH.KHCN", "Hệ thống thư điện tử công vụ", "Thư điện tử cho cán bộ, công chức toàn tỉnh", 3, true, inventory.StageOperation, []inventory.DataClass{P}, "Trung tâm Chuyển đổi số - Sở KH&CN",
			[]res{a("dns:mail." + Domain), a("dns:webmail." + Domain), a("ip:127.77.1.5")}},
		{"sh-trungtam-dulieu", "SH.KHCN", "Trung tâm dữ liệu tỉnh", "Hạ tầng máy chủ, lưu trữ dùng chung", 4, true, inventory.StageOperation, []inventory.DataClass{P, S}, "Trung tâm Chuyển đổi số - Sở KH&CN",
			[]res{a("cidr:127.77.1.0/28"), a("dns:dc." + Domain), a("host:dc-sh-01")}},
		{"sh-lgsp", "SH.KHCN", "Nền tảng tích hợp, chia sẻ dữ liệu (LGSP)", "Kết nối các hệ thống của tỉnh với quốc gia", 3, false, inventory.StageTest, []inventory.DataClass{P}, "Trung tâm Chuyển đổi số - Sở KH&CN",
			[]res{a("dns:lgsp." + Domain), a("url:https://lgsp." + Domain + ":8443/api/")}},
		{"sh-soc", "SH.KHCN", "Hệ thống giám sát an toàn thông tin (SOC)", "Giám sát, cảnh báo sớm an toàn thông tin", 3, false, inventory.StageBuild, nil, "Trung tâm Chuyển đổi số - Sở KH&CN",
			[]res{u("dns:soc." + Domain)}},
		{"sh-hsba", "SH.YT", "Hệ thống bệnh án điện tử", "Hồ sơ sức khỏe, bệnh án của người dân", 4, true, inventory.StageOperation, []inventory.DataClass{P, S}, "Bệnh viện Đa khoa tỉnh",
			[]res{a("dns:benhan." + Domain), a("url:https://benhan." + Domain + "/"), a("db:benhan_chinh")}},
		{"sh-yte-tiemchung", "SH.YT", "Hệ thống quản lý tiêm chủng", "Theo dõi tiêm chủng mở rộng", 2, true, inventory.StageOperation, []inventory.DataClass{P, S}, "Trung tâm Kiểm soát bệnh tật tỉnh",
			[]res{a("dns:tiemchung." + Domain), u("dns:sở-y-tế." + Domain)}},
		{"sh-gd-csdl", "SH.GDDT", "Cơ sở dữ liệu ngành giáo dục", "Hồ sơ học sinh, giáo viên toàn tỉnh", 3, true, inventory.StageOperation, []inventory.DataClass{P}, "Sở Giáo dục và Đào tạo",
			[]res{a("dns:csdl.sgddt." + Domain), a("url:https://csdl.sgddt." + Domain + "/")}},
		{"sh-gd-tuyensinh", "SH.GDDT", "Hệ thống tuyển sinh trực tuyến", "Đăng ký tuyển sinh đầu cấp", 2, false, inventory.StageDesign, []inventory.DataClass{P}, "Sở Giáo dục và Đào tạo",
			[]res{u("dns:tuyensinh." + Domain)}},
		{"sh-tc-ngansach", "SH.TC", "Hệ thống quản lý ngân sách", "Lập, phân bổ và quyết toán ngân sách tỉnh", 4, true, inventory.StageOperation, []inventory.DataClass{P}, "Sở Tài chính",
			[]res{a("dns:ngansach." + Domain), a("ip:127.77.1.12")}},
		{"sh-tc-kho-cu", "SH.TC", "Phần mềm kế toán cũ", "Đã thay thế bằng hệ thống quản lý ngân sách", 1, true, inventory.StageRetired, nil, "Sở Tài chính",
			[]res{u("ip:127.77.1.7")}},
		{"sh-bd-mot-cua", "SH.BD", "Bộ phận một cửa khu vực Bắc Đồng", "Tiếp nhận hồ sơ tại khu vực", 2, true, inventory.StageOperation, []inventory.DataClass{P}, "Khu vực Bắc Đồng",
			[]res{a("dns:motcua.bacdong." + Domain), a("ip:127.77.1.4")}},
		{"sh-ns-camera", "SH.NS", "Hệ thống camera giám sát giao thông", "Giám sát trật tự giao thông khu vực Nam Sơn", 3, false, inventory.StageOperation, []inventory.DataClass{P}, "Khu vực Nam Sơn",
			[]res{a("ip:127.77.1.15"), a("url:http://camera.namson." + Domain + ":8080/")}},
		{"sh-ta-trang", "SH.BD.TA", "Trang thông tin điện tử xã Tân An", "Công khai thông tin của xã", 1, true, inventory.StageOperation, nil, "UBND xã Tân An",
			[]res{a("dns:tanan." + Domain)}},
		{"sh-ph-trang", "SH.BD.PH", "Trang thông tin điện tử phường Phú Hòa", "Công khai thông tin của phường", 1, false, inventory.StagePlanning, nil, "UBND phường Phú Hòa",
			[]res{u("dns:phuhoa." + Domain)}},
		{"sh-dl-trang", "SH.NS.DL", "Trang thông tin điện tử xã Đồng Lạc", "Công khai thông tin của xã", 1, true, inventory.StageOperation, nil, "UBND xã Đồng Lạc",
			[]res{a("dns:donglac." + Domain)}},
	}
	inv := inventory.Inventory{Orgs: orgs}
	for _, s := range systems {
		inv.Systems = append(inv.Systems, inventory.System{
			ID: s.id, Org: s.org, Name: s.name, Purpose: s.purpose, Level: s.level, LevelApproved: s.approved,
			Stage: s.stage, DataClasses: s.classes, Operator: s.operator,
		})
		for _, r := range s.resources {
			inv.Resources = append(inv.Resources, inventory.Resource{ID: r.id, System: s.id, Scope: r.scope, ScopeReason: r.reason})
		}
	}
	return inv
}

// SampleFeeds are the vulnerability feeds the demo imports: an excerpt in OSV form written
// for Khiên (advisories named KHIEN-TEST-…, for real CVE ids) and an excerpt of the CISA KEV
// catalog. A real deployment imports the full feeds with `khien feeds import`.
//
//go:embed feeds/osv-sample.json
var SampleOSV []byte

// SampleKEV is the KEV excerpt; see SampleOSV.
//
//go:embed feeds/kev-sample.json
var SampleKEV []byte

// LabPrefix is the loopback network the demo's ip: and cidr: resources are written in: the
// lab's default. InventoryIn moves them into another /16 for a lab started elsewhere.
var LabPrefix = netip.MustParsePrefix("127.77.0.0/16")

// InventoryIn returns the sample with its ip: and cidr: resources moved from LabPrefix into
// prefix (a /16 inside 127.0.0.0/8), keeping the last two octets.
func InventoryIn(prefix netip.Prefix) inventory.Inventory {
	inv := Inventory()
	if prefix.Masked() == LabPrefix {
		return inv
	}
	p := prefix.Masked().Addr().As4()
	move := func(s string) string {
		a, err := netip.ParseAddr(s)
		if err != nil || !LabPrefix.Contains(a) {
			return s
		}
		b := a.As4()
		b[0], b[1] = p[0], p[1]
		return netip.AddrFrom4(b).String()
	}
	for i, r := range inv.Resources {
		switch r.Kind() {
		case inventory.KindIP:
			inv.Resources[i].ID = "ip:" + move(r.Value())
		case inventory.KindCIDR:
			addr, bits, _ := strings.Cut(r.Value(), "/")
			inv.Resources[i].ID = "cidr:" + move(addr) + "/" + bits
		}
	}
	return inv
}
