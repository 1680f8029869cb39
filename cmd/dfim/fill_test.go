package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// fillTestEngine fills every hole with "x + 1".
type fillTestEngine struct{}

func (fillTestEngine) Infill(_ context.Context, req engine.Request) (engine.Result, error) {
	return engine.Result{Candidates: []engine.Fill{{Holes: []string{"x + 1"}, Tokens: []int{3}, Confidence: 0.8}}, Steps: 5, Tokens: 3}, nil
}
func (fillTestEngine) Close() error { return nil }

func init() {
	engine.Register("filltest", func(engine.Config) (engine.Denoiser, error) { return fillTestEngine{}, nil })
}

// captureStdout runs f with os.Stdout sent to a file and returns what it wrote.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = tmp
	defer func() { os.Stdout = old }()
	f()
	b, _ := os.ReadFile(tmp.Name())
	return string(b)
}

func TestFill(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	os.WriteFile(src, []byte("package a\n\nfunc f(x int) int {\n\t// héllo\n\treturn \n}\n"), 0o644)
	bin := filepath.Join(dir, "b.go")
	os.WriteFile(bin, []byte("package a\x00\x01"), 0o644)
	noext := filepath.Join(dir, "README")
	os.WriteFile(noext, []byte("text\n"), 0o644)

	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{src + ":5:9"}, exitOK, "x + 1\n", ""},
		{[]string{"--json", src + ":5:9"}, exitOK, `"text":"x + 1"`, ""},
		{[]string{src + ":5:10"}, exitUsage, "", "column 10 is past the end of line 5"},
		{[]string{src + ":9:1"}, exitUsage, "", "past the end of the file"},
		{[]string{src + ":0:1"}, exitUsage, "", "numbers from 1"},
		{[]string{src}, exitUsage, "", "not FILE:LINE:COL"},
		{[]string{bin + ":1:1"}, exitUsage, "", "binary file"},
		{[]string{noext + ":1:1"}, exitUsage, "", "unknown language"},
		{[]string{filepath.Join(dir, "gone.go") + ":1:1"}, exitFailed, "", "no such file"},
		{[]string{"--engine", "nosuch", src + ":5:9"}, exitUsage, "", `unknown --engine "nosuch"; use one of: copy, `},
	} {
		var stderr bytes.Buffer
		var code int
		out := captureStdout(t, func() {
			code = run(append([]string{"fill", "--engine", "filltest"}, tc.args...), &bytes.Buffer{}, &stderr)
		})
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("dfim fill %v: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out, stderr.String(), tc.code, tc.out, tc.err)
		}
	}
}

func TestFillJSONShape(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	os.WriteFile(src, []byte("package a\n\nfunc f(x int) int {\n\treturn \n}\n"), 0o644)
	out := captureStdout(t, func() {
		run([]string{"fill", "--engine", "filltest", "--json", src + ":4:9"}, &bytes.Buffer{}, &bytes.Buffer{})
	})
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	for _, k := range []string{"text", "candidates", "steps", "latency_ms", "tokens", "context_bytes"} {
		if _, ok := got[k]; !ok {
			t.Errorf("--json output lacks %q: %s", k, out)
		}
	}
	if got["steps"].(float64) != 5 || got["tokens"].(float64) != 3 {
		t.Errorf("steps/tokens = %v/%v, want 5/3", got["steps"], got["tokens"])
	}
}

func TestByteOffsetRunes(t *testing.T) {
	text := "héllo wörld\nx"
	off, err := byteOffset(text, 1, 8) // the 'ö' is the 8th character
	if err != nil || !strings.HasPrefix(text[off:], "ö") {
		t.Errorf("byteOffset(1, 8) = %d, %v; want the offset of ö", off, err)
	}
	if off, err := byteOffset(text, 2, 2); err != nil || off != len(text) {
		t.Errorf("byteOffset(2, 2) = %d, %v; want %d (end of file)", off, err, len(text))
	}
}

// screen is a small terminal for the tests of fill --watch: it wraps at
// cols, scrolls at rows, and knows the sequences stepDrawer writes (SGR,
// ESC[nF, ESC[J).
type screen struct {
	cols, rows int
	lines      [][]rune
	r, c       int
	wrap       bool // at the right margin: the next character wraps first
}

func newScreen(cols, rows int) *screen {
	s := &screen{cols: cols, rows: rows}
	for range rows {
		s.lines = append(s.lines, nil)
	}
	return s
}

func (s *screen) down() {
	s.r++
	if s.r == s.rows {
		s.lines = append(s.lines[1:], nil)
		s.r--
	}
}

func (s *screen) Write(p []byte) (int, error) {
	text := []rune(string(p))
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch == '\x1b' && i+1 < len(text) && text[i+1] == '[':
			j := i + 2
			for j < len(text) && (text[j] < 0x40 || text[j] > 0x7e) {
				j++
			}
			arg, final := string(text[i+2:j]), text[j]
			i = j
			n := 1
			fmt.Sscan(arg, &n)
			switch final {
			case 'F':
				s.r, s.c, s.wrap = max(0, s.r-n), 0, false
			case 'J':
				s.lines[s.r] = s.lines[s.r][:min(s.c, len(s.lines[s.r]))]
				for k := s.r + 1; k < s.rows; k++ {
					s.lines[k] = nil
				}
			}
		case ch == '\n':
			s.down()
			s.c, s.wrap = 0, false
		case ch == '\r':
			s.c, s.wrap = 0, false
		case ch == '\t': // to the next stop, never past the margin
			s.c, s.wrap = min((s.c/8+1)*8, s.cols-1), false
		default:
			w := runeWidth(ch)
			if w == 0 {
				continue
			}
			if s.wrap || s.c+w > s.cols {
				s.down()
				s.c, s.wrap = 0, false
			}
			for len(s.lines[s.r]) < s.c+w {
				s.lines[s.r] = append(s.lines[s.r], ' ')
			}
			s.lines[s.r][s.c] = ch
			if w == 2 {
				s.lines[s.r][s.c+1] = 0 // the right half of a wide character
			}
			if s.c+w == s.cols {
				s.c, s.wrap = s.cols-1, true
			} else {
				s.c += w
			}
		}
	}
	return len(p), nil
}

// text is what the screen shows, trailing blank lines dropped.
func (s *screen) text() string {
	var out []string
	for _, l := range s.lines {
		out = append(out, strings.TrimRight(strings.ReplaceAll(string(l), "\x00", ""), " "))
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// TestWatchRedrawsWrappedLines: at 80 columns a mask line of 200 cells
// takes three rows; every frame of fill --watch must replace the last one
// whole, and clear must leave only what was there before (it used to go
// back one row per line break and leave the wrapped rows of old steps).
func TestWatchRedrawsWrappedLines(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {80, 6}, {33, 40}} {
		scr := newScreen(size[0], size[1])
		io.WriteString(scr, "$ dfim fill --watch a.go:3:1\n")
		d := &stepDrawer{out: scr, size: func() (int, int) { return size[0], size[1] }}
		steps := []string{
			strings.Repeat(engine.MaskGlyph, 200),
			"func f() {\n\treturn " + strings.Repeat(engine.MaskGlyph, 150) + "\n}",
			"x := 1",
			strings.Repeat("長", 90) + "\n" + strings.Repeat("\t"+engine.MaskGlyph, 20),
			"done",
		}
		for i, text := range steps {
			d.draw(infill.Step{Index: i, Holes: []string{text}})
			got := scr.text()
			if !strings.HasPrefix(got, "$ dfim fill") && size[1] > 10 {
				t.Errorf("%dx%d step %d: the prompt line was overwritten:\n%s", size[0], size[1], i+1, got)
			}
			if n := strings.Count(got, "step "); n != 1 {
				t.Errorf("%dx%d step %d: %d step headers on the screen, want 1:\n%s", size[0], size[1], i+1, n, got)
			}
			if !strings.Contains(got, fmt.Sprintf("step %d (candidate 1)", i+1)) {
				t.Errorf("%dx%d step %d: header missing:\n%s", size[0], size[1], i+1, got)
			}
		}
		d.clear()
		// On a short screen the frames scrolled the prompt away.
		if got := scr.text(); got != "$ dfim fill --watch a.go:3:1" && (size[1] > 10 || got != "") {
			t.Errorf("%dx%d: after clear the screen shows\n%s", size[0], size[1], got)
		}
	}
}

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		s    string
		cols int
		rows int
	}{
		{"abc", 80, 1},
		{"", 80, 1},
		{strings.Repeat("x", 80), 80, 1},
		{strings.Repeat("x", 81), 80, 2},
		{strings.Repeat("x", 200), 80, 3},
		{"\x1b[2m" + strings.Repeat("x", 80) + "\x1b[0m", 80, 1},
		{strings.Repeat(engine.MaskGlyph, 160), 80, 2},
		{strings.Repeat("長", 40), 80, 1},
		{"x" + strings.Repeat("長", 40), 80, 2},
		{strings.Repeat("\t", 20) + "x", 80, 1}, // a tab stops at the margin
		{strings.Repeat("e\u0301", 80), 80, 1},
	} {
		if got, _ := layout(tc.s, tc.cols, 0); got != tc.rows {
			t.Errorf("layout(%q, %d) = %d rows, want %d", tc.s, tc.cols, got, tc.rows)
		}
	}
	if _, fit := layout(strings.Repeat("x", 200), 80, 2); fit != 160 {
		t.Errorf("%d bytes fit in 2 rows, want 160", fit)
	}
	if got := fitRows([]string{"head", strings.Repeat("x", 400), "tail"}, 80, 4); len(got) != 3 || len(got[1]) != 160 || got[2] != "…" {
		t.Errorf("fitRows = %q", got)
	}
}
