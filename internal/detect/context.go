package detect

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Context words are written folded: lower case, without diacritics, đ as d. The text around a
// match is folded the same way, so "Số CCCD", "SỐ CCCD" and "so cccd" (and decomposed
// Unicode) all find "cccd".
var (
	citizenWords = []string{"cccd", "can cuoc", "cong dan", "dinh danh", "cmnd", "cmt", "chung minh",
		"citizen id", "id card", "identity card", "national id", "id number", "personal id"}
	oldIDWords = []string{"cmnd", "cmt", "chung minh", "so cm", "cccd", "can cuoc",
		"id card", "identity card", "national id", "id number"}
	phoneWords = []string{"dien thoai", "dt", "sdt", "dtdd", "di dong", "phone", "mobile", "tel",
		"zalo", "lien he", "hotline", "contact"}
	taxWords = []string{"mst", "ma so thue", "tax code", "tax id", "taxpayer", "ma so doanh nghiep", "msdn"}
	// notIDWords label numbers that are not identifiers of a person; notTaxWords add phones.
	notIDWords = []string{"tai khoan", "stk", "account", "hoa don", "invoice", "don hang", "van don",
		"order", "ma tra cuu", "ma ho so", "ma giao dich", "transaction"}
	notTaxWords = append([]string{"hotline", "tong dai", "duong day nong", "dien thoai", "fax",
		"bhxh", "bhyt", "bao hiem", "social insurance", "health insurance", "vssid"}, notIDWords...)
	// socialWords label social- and health-insurance numbers (mã số BHXH, thẻ BHYT).
	socialWords = []string{"bhxh", "bhyt", "bao hiem xa hoi", "bao hiem y te", "ma so bhxh", "so bhxh",
		"vssid", "social insurance", "health insurance", "the bhyt", "ma the"}
	landlineWords = []string{"dien thoai", "dt", "tel", "phone", "fax", "co dinh", "dt ban", "lien he", "telephone"}
	passportWords = []string{"ho chieu", "passport", "so hc", "hc so", "passport no", "travel document"}
	cardWords     = []string{"so the", "the atm", "the visa", "the napas", "card", "card number", "visa", "mastercard", "master card", "jcb",
		"amex", "unionpay", "napas", "atm", "the tin dung", "the ghi no", "credit", "debit", "pan"}
	accountWords = []string{"stk", "so tai khoan", "tai khoan so", "tai khoan", "so tk", "tk so", "account no",
		"account number", "bank account", "acct", "a/c", "so tai khoan ngan hang"}
	// bankNames are the short names Vietnamese banks go by, folded.
	bankNames = []string{"ngan hang", "bank", "vietcombank", "vcb", "vietinbank", "bidv", "agribank",
		"techcombank", "tcb", "mbbank", "mb bank", "acb", "vpbank", "sacombank", "tpbank", "hdbank", "shb", "vib",
		"ocb", "msb", "seabank", "eximbank", "lienvietpostbank", "lpbank", "nam a", "bac a", "abbank",
		"pvcombank", "baoviet", "vietabank", "kienlongbank", "ncb", "pgbank", "scb", "saigonbank",
		"vietbank", "bvbank", "oceanbank", "gpbank", "cbbank", "vrb", "shinhan", "woori", "hsbc",
		"standard chartered", "uob", "cake", "timo", "tnex", "momo"}
	birthWords = []string{"ngay sinh", "sinh ngay", "nam sinh", "ngay thang nam sinh", "ns", "dob",
		"date of birth", "birth date", "birthday", "born", "d o b", "sinh nhat"}
	nameLabelWords = []string{"ho ten", "ho va ten", "ho va ten khai sinh", "full name", "name", "ten",
		"nguoi khai", "chu ho", "ho ten nguoi", "ong", "ba", "anh", "chi"}
	emailWords = []string{"email", "e mail", "mail", "thu dien tu", "hop thu", "lien he"}
)

// The context window: labels come before a value ("Số CCCD: …"), sometimes after
// ("… (CCCD)"). Vietnamese letters take two or three bytes, so 64 bytes is about 30 letters.
const (
	ctxBefore = 64
	ctxAfter  = 32
)

// hasContext reports whether one of words occurs, as whole words, in the folded text around
// b[start:end] (the match itself excluded). The window reaches back over at most lines line
// breaks (a label in the line above, as in "<dt>Số CCCD</dt><dd>…</dd>") and forward to the
// end of the line only.
func hasContext(b []byte, start, end int, words []string, lines int) bool {
	var buf [2 * (ctxBefore + ctxAfter)]byte
	lo := max(0, start-ctxBefore)
	for lo > 0 && lo < start && !utf8.RuneStart(b[lo]) {
		lo++
	}
	for i := start - 1; i >= lo; i-- {
		if b[i] == '\n' {
			if lines == 0 {
				lo = i + 1
				break
			}
			lines--
		}
	}
	hi := min(len(b), end+ctxAfter)
	if i := bytes.IndexByte(b[end:hi], '\n'); i >= 0 {
		hi = end + i
	}
	f := fold(buf[:0], b[lo:start])
	f = append(f, ' ')
	f = fold(f, b[end:hi])
	for _, w := range words {
		for i := 0; ; {
			j := bytes.Index(f[i:], []byte(w))
			if j < 0 {
				break
			}
			j += i
			if (j == 0 || !isFoldedLetter(f[j-1])) && (j+len(w) >= len(f) || !isFoldedLetter(f[j+len(w)])) {
				return true
			}
			i = j + 1
		}
	}
	return false
}

func isFoldedLetter(c byte) bool { return c-'a' < 26 }

// fold appends s to dst in lower case without diacritics; letters outside Latin become ' ',
// combining marks disappear, anything else is kept if ASCII and becomes ' ' otherwise.
func fold(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c-'A' < 26 {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		switch {
		case r >= 0x300 && r <= 0x36f: // combining mark: drop
		default:
			if b := foldRune(r); b != 0 {
				dst = append(dst, b)
			} else {
				dst = append(dst, ' ')
			}
		}
		i += n
	}
	return dst
}

// foldTable maps the precomposed Latin letters Vietnamese uses (Latin-1 Supplement, Latin
// Extended-A and -B, Latin Extended Additional) to their lower-case ASCII base. It is built
// once from the Unicode decompositions and never written again.
var foldTable = func() (t [0x1f00]byte) {
	for r := rune(0xc0); r < 0x1f00; r++ {
		if r >= 0x250 && r < 0x1e00 {
			continue
		}
		d := norm.NFD.String(string(r))
		if c := d[0]; c < utf8.RuneSelf && isASCIILetter(c) {
			t[r] = c | 0x20
		}
	}
	t['đ'], t['Đ'] = 'd', 'd'
	return t
}()

func foldRune(r rune) byte {
	if r < rune(len(foldTable)) {
		return foldTable[r]
	}
	return 0
}
