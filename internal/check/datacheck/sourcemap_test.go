package datacheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
)

// keyFile is an original file with the planted key on line 3.
const keyFile = "// cấu hình\n\n" + plantedAWS + "\n"

// filler is an original file of about n bytes of ordinary code, with no credential.
func filler(i, n int) string {
	var b strings.Builder
	for j := 0; b.Len() < n; j++ {
		fmt.Fprintf(&b, "export const label%d_%d = \"Cổng thông tin điện tử, mục %d\";\n", i, j, j)
	}
	return b.String()
}

// mapOf builds a source map of files named by names, with sources after sourcesContent when
// sourcesLast, and a mappings string of mappings bytes before them.
func mapOf(names, files []string, sourcesLast bool, mappings int) string {
	n, _ := json.Marshal(names)
	f, _ := json.Marshal(files)
	mp := strings.Repeat("AAAA;", mappings/5)
	if sourcesLast {
		return fmt.Sprintf(`{"version":3,"file":"app.min.js","mappings":%q,"sourcesContent":%s,"names":["a","b"],"sources":%s}`, mp, f, n)
	}
	return fmt.Sprintf(`{"version":3,"file":"app.min.js","sources":%s,"mappings":%q,"sourcesContent":%s}`, n, mp, f)
}

// bigMap builds a map of about size bytes: 64 KiB filler files with keyFile as file at (-1:
// the last one), named src/config.ts.
func bigMap(size, at int, sourcesLast bool) string {
	const each = 64 << 10
	count := size / each
	if at < 0 {
		at = count - 1
	}
	names, files := make([]string, count), make([]string, count)
	for i := range count {
		names[i], files[i] = fmt.Sprintf("webpack://app/src/page%03d.ts", i), filler(i, each)
	}
	names[at], files[at] = "webpack://app/src/config.ts", keyFile
	return mapOf(names, files, sourcesLast, 256<<10)
}

// TestSourceMapStream serves source maps larger than MaxBody: they are read as a stream, up
// to MaxMapBody, and each original file up to MaxBody is scanned.
func TestSourceMapStream(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name      string
		cfg       Config
		body      string
		want      check.Status
		source    string // the original file a failure names, at line 3
		truncated bool
		large     int  // original files skipped as longer than MaxBody
		broken    bool // the map page has an error
	}{
		{"6 MiB map, key in the last file", Config{}, bigMap(6*mib, -1, false),
			check.Fail, "webpack://app/src/config.ts", false, 0, false},
		{"6 MiB map, sources after sourcesContent", Config{}, bigMap(6*mib, -1, true),
			check.Fail, "webpack://app/src/config.ts", false, 0, false},
		{"map past MaxMapBody, key before the cut", Config{MaxMapBody: 4 * mib}, bigMap(6*mib, 10, false),
			check.Fail, "webpack://app/src/config.ts", true, 0, false},
		{"map past MaxMapBody, key before the cut, names after it", Config{MaxMapBody: 4 * mib}, bigMap(6*mib, 10, true),
			check.Fail, "sources[10]", true, 0, false},
		{"map past MaxMapBody, key after the cut", Config{MaxMapBody: 4 * mib}, bigMap(6*mib, -1, false),
			check.Pass, "", true, 0, false},
		{"original file past MaxBody skipped, the others scanned", Config{MaxBody: 256 << 10},
			mapOf([]string{"big.ts", "small.ts", "cfg.ts"}, []string{filler(0, 300<<10) + plantedAWS, filler(1, 100<<10), keyFile}, false, 512<<10),
			check.Fail, "cfg.ts", false, 1, false},
		{"escaped file past MaxBody", Config{MaxBody: 256 << 10},
			mapOf([]string{"big.ts"}, []string{strings.Repeat("\n", 300<<10) + plantedAWS}, false, 0),
			check.Pass, "", false, 1, false},
		{"anti-XSSI prefix", Config{}, ")]}'\n" + mapOf([]string{"a.ts"}, []string{keyFile}, false, 10),
			check.Fail, "a.ts", false, 0, false},
		{"byte order mark", Config{}, "\ufeff" + mapOf([]string{"a.ts"}, []string{keyFile}, true, 10),
			check.Fail, "a.ts", false, 0, false},
		{"null and non-text entries", Config{}, fmt.Sprintf(`{"sources":["a.ts","b.ts","c.ts",7],"sourcesContent":[null,1,{"x":[2]},%q]}`, keyFile),
			check.Fail, "sources[3]", false, 0, false},
		{"not JSON", Config{}, "var x = 1;", check.Pass, "", false, 0, true},
		{"an array", Config{}, `[{"sourcesContent":["x"]}]`, check.Pass, "", false, 0, true},
		{"sourcesContent an object", Config{}, fmt.Sprintf(`{"sourcesContent":{"a":%q}}`, keyFile), check.Pass, "", false, 0, true},
		{"broken off", Config{}, `{"version":3,"sources":["a.ts"],"sourcesContent":["x",`, check.Pass, "", false, 0, true},
		{"broken after a leaking file", Config{}, fmt.Sprintf(`{"sources":["a.ts"],"sourcesContent":[%q,}`, keyFile),
			check.Fail, "a.ts", false, 0, true},
		{"empty", Config{}, "", check.Pass, "", false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, _ := serve(t, "127.0.0.1", map[string]file{
				"/":                      {"text/html", `<html><head><script src="/static/app.min.js"></script></head><body>x</body></html>`},
				"/static/app.min.js":     {"application/javascript", "!function(){}();\n//# sourceMappingURL=app.min.js.map\n"},
				"/static/app.min.js.map": {"application/json", tt.body},
			}, "")
			r := resource(t, "url:"+site.URL+"/")
			tt.cfg.Key = []byte("test")
			o, err := Family(tt.cfg).Observe(t.Context(), r, envFor(t, r, ""))
			if err != nil {
				t.Fatal(err)
			}
			mapURL := site.URL + "/static/app.min.js.map"
			var m *Page
			for i, p := range o.Scripts {
				if p.URL == mapURL && p.Source == "" {
					m = &o.Scripts[i]
				}
			}
			if m == nil {
				t.Fatalf("the map was not fetched: %+v", o.Scripts)
			}
			if m.Truncated != tt.truncated || m.LargeSources != tt.large || o.Skipped.LargeSources != tt.large || (m.Error != "") != tt.broken {
				t.Errorf("map page truncated %v, %d large files (%d skipped), error %q; want %v, %d, error %v",
					m.Truncated, m.LargeSources, o.Skipped.LargeSources, m.Error, tt.truncated, tt.large, tt.broken)
			}
			if tt.truncated && int64(m.Bytes) != tt.cfg.MaxMapBody {
				t.Errorf("read %d bytes of the map, want the cap %d", m.Bytes, tt.cfg.MaxMapBody)
			}
			res := secretPublic(o)
			if res.Status != tt.want {
				t.Fatalf("status %s, want %s\n%s", res.Status, tt.want, dump([]check.Result{res}))
			}
			if tt.want != check.Fail {
				return
			}
			pages, _ := res.Evidence["pages"].([]pageEvidence)
			if len(pages) != 1 {
				t.Errorf("%d pages in evidence, want the one file %s", len(pages), tt.source)
			}
			found := false
			for _, p := range pages {
				for _, f := range p.Findings {
					if p.URL == mapURL && p.Source == tt.source && f.Reportable && len(f.Samples) > 0 && f.Samples[0].Line == 3 {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("evidence does not name %s line 3:\n%s", tt.source, dump([]check.Result{res}))
			}
		})
	}
}

// TestUnquote holds unquote to what encoding/json decodes.
func TestUnquote(t *testing.T) {
	for _, s := range []string{
		`""`, `"abc"`, `"a\nb\tc\\d\"e\/f\bg\fh\r"`, `"\u00e9\u1EA1"`, `"\ud83d\ude00"`,
		`"\ud800"`, `"\ud800x"`, `"\ud800\u0041"`, `"\udc00\ud800"`, "\"\xff\xfeabc\"", "\"thư mục\"",
		"\"\xed\xa0\x80\"", `"\uD83D\uDE00\uFFFD"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		got, ok := unquote([]byte("stale"), []byte(s), 1<<20)
		if !ok || string(got[len("stale"):]) != want {
			t.Errorf("unquote(%q) = %q, %v; want %q", s, got[len("stale"):], ok, want)
		}
		if len(want) > 0 {
			if _, ok := unquote(nil, []byte(s), int64(len(want)-1)); ok {
				t.Errorf("unquote(%q) with max %d: ok, want too long", s, len(want)-1)
			}
		}
	}
}

// sourceMapUnmarshal is the previous, in-memory reading of a source map, kept to compare
// with in BenchmarkSourceMap.
func sourceMapUnmarshal(c *crawler, page Page, body []byte) []Page {
	var sm struct {
		Sources        []string  `json:"sources"`
		SourcesContent []*string `json:"sourcesContent"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(body, []byte(")]}'")), &sm); err != nil {
		page.Error = err.Error()
		return []Page{page}
	}
	out := []Page{page}
	for i, src := range sm.SourcesContent {
		if src == nil {
			continue
		}
		if rep := detect.Scan([]byte(*src), c.secrets, c.opts); len(rep.Findings) > 0 {
			p := page
			p.Source = sm.Sources[i]
			p.Report = rep
			out = append(out, p)
		}
	}
	return out
}

// BenchmarkSourceMap reads a 6 MiB source map (96 original files, the key in the last):
// streamed as an external map is, and unmarshalled whole as it was before.
func BenchmarkSourceMap(b *testing.B) {
	m := []byte(bigMap(6<<20, -1, false))
	c := &crawler{cfg: Config{}.withDefaults(), secrets: pageSecrets()}
	for _, run := range []struct {
		name string
		read func() []Page
	}{
		{"stream", func() []Page {
			return c.readSourceMap(Page{}, bytes.NewReader(m), c.cfg.MaxMapBody, "application/json")
		}},
		{"unmarshal", func() []Page { return sourceMapUnmarshal(c, Page{}, m) }},
	} {
		b.Run(run.name, func(b *testing.B) {
			b.SetBytes(int64(len(m)))
			b.ReportAllocs()
			for b.Loop() {
				if out := run.read(); len(out) != 2 || out[1].Source != "webpack://app/src/config.ts" {
					b.Fatalf("%d pages, want the map and config.ts", len(out))
				}
			}
		})
	}
}
