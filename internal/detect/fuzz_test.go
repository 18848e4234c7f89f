package detect

import (
	"strings"
	"testing"
)

// FuzzScan checks that no input makes a detector panic or report out of bounds, and that the
// masked evidence never holds the full value.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"Số CCCD: 001099000123\nĐT: +84 90 123 4567\nMST 0100000010-001",
		"CMND 012000345 (+84) 901 234 567 84901234567 090.123.4567",
		"TUYỆT MẬT\n[MẬT]\nĐộ mật: Tối mật\n│ TỐI MẬT │\nDo mat: tuyet mat",
		"TUY\u0323\u0302ET MA\u0323\u0302T\n\xff\xfeM\xcc\x80",
		"0901234567 0912345678 1900 1234 024 3823 4567",
		"1.001099000000 HD001099000000 0010990000001",
		"M", "m\xcc", "(+84) ", "+84", "0100000010-", "Độ mật:",
	} {
		f.Add(s)
	}
	ds := Default(testNow)
	f.Fuzz(func(t *testing.T, s string) {
		text := []byte(s)
		for _, d := range ds {
			last := -1
			d.Find(text, func(m Match) {
				if m.Offset < 0 || m.Len <= 0 || m.Offset+m.Len > len(text) {
					t.Fatalf("%s: match [%d,+%d) out of [0,%d)", d.ID(), m.Offset, m.Len, len(text))
				}
				if m.Offset < last {
					t.Fatalf("%s: match at %d after one at %d", d.ID(), m.Offset, last)
				}
				last = m.Offset
				if m.Confidence <= 0 || m.Confidence > 1 || m.Line < 1 || m.Detector != d.ID() {
					t.Fatalf("%s: bad match %+v", d.ID(), m)
				}
				if ClassOf(d.ID()) == ClassStateSecret {
					return // a marking is not a secret value
				}
				value := digitsOf(text[m.Offset : m.Offset+m.Len])
				if len(value) < 9 {
					t.Fatalf("%s: match %q has %d digits", d.ID(), text[m.Offset:m.Offset+m.Len], len(value))
				}
				canon := d.(canonicalizer).canonical(text[m.Offset : m.Offset+m.Len])
				shown := digitsOf([]byte(m.Masked))
				if strings.Contains(m.Masked, canon) || !strings.HasPrefix(canon, shown) || len(canon)-len(shown) < 5 {
					t.Fatalf("%s: masked %q shows more than a prefix of %q", d.ID(), m.Masked, canon)
				}
			})
		}
		rep := Scan(text, ds, Options{Key: []byte("fuzz")})
		for _, fd := range rep.Findings {
			if fd.Distinct > fd.Matches || fd.Strong > fd.Distinct || len(fd.Samples) > fd.Distinct {
				t.Fatalf("inconsistent finding %+v", fd)
			}
			if ClassOf(fd.Detector) == ClassStateSecret {
				continue
			}
			for _, smp := range fd.Samples {
				if strings.Count(smp.Masked, "*") < 5 {
					t.Fatalf("%s: sample %q masks fewer than 5 digits", fd.Detector, smp.Masked)
				}
			}
		}
	})
}
