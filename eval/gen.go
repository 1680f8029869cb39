package eval

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Task kinds Generate makes (those of dev.jsonl).
const (
	KindSingleLine = "single-line" // the text of one line after its indentation
	KindMultiLine  = "multi-line"  // 2–6 whole lines inside a function body
	KindRandomSpan = "random-span" // 5–80 characters inside a function body
)

// Window sizes of generated tasks, as in dev.jsonl.
const (
	maxPrefixBytes = 4000
	maxSuffixBytes = 2000
)

// GenConfig says what tasks Generate makes.
type GenConfig struct {
	Root    string   // source tree to draw from
	Lang    string   // "go" or "python"
	Kind    string   // KindSingleLine, KindMultiLine or KindRandomSpan
	N       int      // tasks to make
	Seed    uint64   // same seed and tree: same tasks
	Exclude []string // folders or files to leave out (absolute, or relative to Root)
	// RootPaths writes each task's path relative to Root ("lsp/server.go")
	// instead of under its language ("go/lsp/server.go"), so that
	// `dfim eval --workspace Root` finds the file in its index.
	RootPaths bool
	// CrossFile keeps only spans that use a package-level name that
	// another file of the tree defines: bare (same package) or qualified by
	// one of the tree's own packages (engine.Register). Tasks where
	// cross-file context can matter.
	CrossFile bool
}

// Generate makes cfg.N tasks from the source files under cfg.Root, at most
// one per file per pass over the (shuffled) files, so tasks spread over the
// tree. It skips tests (test files, test/ and testdata/ folders), hidden
// folders, generated files and files that do not parse. It returns fewer
// tasks than asked, without error, only when the tree holds no more
// distinct ones (with CrossFile: none found in a few draws per file).
func Generate(cfg GenConfig) ([]Task, error) {
	var ext string
	switch cfg.Lang {
	case "go":
		ext = ".go"
	case "python":
		ext = ".py"
	default:
		return nil, fmt.Errorf("eval gen: unknown language %q (want go or python)", cfg.Lang)
	}
	switch cfg.Kind {
	case KindSingleLine, KindMultiLine, KindRandomSpan:
	default:
		return nil, fmt.Errorf("eval gen: unknown kind %q (want %s, %s or %s)", cfg.Kind, KindSingleLine, KindMultiLine, KindRandomSpan)
	}
	if cfg.N <= 0 {
		return nil, fmt.Errorf("eval gen: --n must be positive, not %d", cfg.N)
	}
	files, err := sourceFiles(cfg.Root, ext, cfg.Exclude)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("eval gen: no %s files under %s", ext, cfg.Root)
	}
	absRoot, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("eval gen: root %s: %w", cfg.Root, err)
	}
	var defs defTable
	module := ""
	tries := 8
	if cfg.CrossFile {
		defs = buildDefTable(files, cfg.Lang)
		module = modulePath(absRoot)
		tries = 64 // most spans use no cross-file name
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	order := rng.Perm(len(files))
	seen := map[string]bool{}
	dead := make([]bool, len(files)) // no function body, unreadable or generated
	var tasks []Task
	for pass := 0; len(tasks) < cfg.N; pass++ {
		added := false
		for _, fi := range order {
			if len(tasks) == cfg.N {
				break
			}
			if dead[fi] {
				continue
			}
			src, err := os.ReadFile(files[fi])
			if err != nil || !utf8.Valid(src) {
				dead[fi] = true
				continue
			}
			var bodies []body
			if cfg.Lang == "go" {
				bodies = goBodies(files[fi], src)
			} else {
				bodies = pythonBodies(src)
			}
			if len(bodies) == 0 {
				dead[fi] = true
				continue
			}
			rel, _ := filepath.Rel(absRoot, files[fi])
			var uses []crossUse
			switch {
			case cfg.CrossFile && cfg.Lang == "go":
				uses = goCrossUses(files[fi], src, defs, module)
			case cfg.CrossFile:
				uses = pyCrossUses(files[fi], src, defs)
			}
			if cfg.CrossFile && len(uses) == 0 {
				dead[fi] = true
				continue
			}
			// A few tries: a drawn body may hold no span of the kind.
			for try := 0; try < tries; try++ {
				b := bodies[rng.IntN(len(bodies))]
				start, end, ok := drawSpan(rng, src, b, cfg.Kind)
				key := fmt.Sprintf("%d:%d:%d", fi, start, end)
				if !ok || seen[key] {
					continue
				}
				seen[key] = true
				if cfg.CrossFile && crossName(uses, start, end) == "" {
					continue
				}
				tasks = append(tasks, makeTask(src, start, end, cfg, filepath.ToSlash(rel), len(tasks)))
				added = true
				break
			}
		}
		if !added {
			break
		}
	}
	return tasks, nil
}

func makeTask(src []byte, start, end int, cfg GenConfig, rel string, i int) Task {
	from := max(0, start-maxPrefixBytes)
	if from > 0 {
		// Begin at a line start, as an editor window would.
		if nl := bytes.IndexByte(src[from:start], '\n'); nl >= 0 {
			from += nl + 1
		} else {
			for from < start && !utf8.RuneStart(src[from]) {
				from++
			}
		}
	}
	to := min(len(src), end+maxSuffixBytes)
	if to < len(src) {
		if nl := bytes.LastIndexByte(src[end:to], '\n'); nl >= 0 {
			to = end + nl + 1
		} else {
			for to > end && !utf8.RuneStart(src[to]) {
				to--
			}
		}
	}
	path := cfg.Lang + "/" + rel
	if cfg.RootPaths {
		path = rel
	}
	return Task{
		ID:     fmt.Sprintf("%s/%s/%d", cfg.Lang, cfg.Kind, i),
		Lang:   cfg.Lang,
		Path:   path,
		Prefix: string(src[from:start]),
		Middle: string(src[start:end]),
		Suffix: string(src[end:to]),
		Kind:   cfg.Kind,
	}
}

// sourceFiles lists the files under root with extension ext, sorted, minus
// excluded paths, tests (_test.go, test_*.py, test/ and testdata/ folders,
// as dev.jsonl has none) and hidden or underscore folders.
func sourceFiles(root, ext string, exclude []string) ([]string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("eval gen: root %s: %w", root, err)
	}
	skip := map[string]bool{}
	for _, e := range exclude {
		if !filepath.IsAbs(e) {
			e = filepath.Join(absRoot, e)
		}
		skip[filepath.Clean(e)] = true
	}
	var files []string
	err = filepath.WalkDir(absRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == absRoot {
				return err
			}
			return nil // an unreadable folder is skipped, not fatal
		}
		if skip[p] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != absRoot && (name == "testdata" || name == "test" || name == "tests" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		isTest := strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "test_") && ext == ".py"
		if d.Type().IsRegular() && filepath.Ext(name) == ext && !isTest {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("eval gen: walking %s: %w (check --root)", root, err)
	}
	sort.Strings(files)
	return files, nil
}

// A body is a function body as source lines: every line in it lies
// strictly inside the function, so spans drawn from it are code to fill.
type body struct {
	lines []lineSpan // the body's lines, in order
}

// A lineSpan is one source line: [start, end) without its newline, and
// code, where the text after its indentation begins.
type lineSpan struct {
	start, code, end int
	// fill says the line is a sensible single-line middle (code, not a
	// comment, a lone bracket or the inside of a multi-line string).
	fill bool
}

// splitLines cuts src into lines.
func splitLines(src []byte) []lineSpan {
	var lines []lineSpan
	for start := 0; start <= len(src); {
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += start
		}
		code := start
		for code < end && (src[code] == ' ' || src[code] == '\t') {
			code++
		}
		e := end
		for e > code && (src[e-1] == ' ' || src[e-1] == '\t' || src[e-1] == '\r') {
			e--
		}
		lines = append(lines, lineSpan{start: start, code: code, end: e})
		if end == len(src) {
			break
		}
		start = end + 1
	}
	return lines
}

// fillable says whether a line's code is worth a single-line task.
func fillable(code string, comment string) bool {
	if code == "" || strings.HasPrefix(code, comment) {
		return false
	}
	return strings.IndexFunc(code, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// goBodies finds the bodies of the top-level functions of a Go file; nil
// for a generated file or one that does not parse.
func goBodies(name string, src []byte) []body {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil || ast.IsGenerated(f) {
		return nil
	}
	lines := splitLines(src)
	for i := range lines {
		lines[i].fill = fillable(string(src[lines[i].code:lines[i].end]), "//")
	}
	var bodies []body
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		first := fset.Position(fd.Body.Lbrace).Line // 1-based: the line after the brace, 0-based
		last := fset.Position(fd.Body.Rbrace).Line - 2
		if first <= last {
			bodies = append(bodies, body{lines: lines[first : last+1]})
		}
	}
	return bodies
}

// pythonBodies finds the bodies of the functions of a Python file (methods
// and nested functions too) by their indentation; nil for a generated file.
func pythonBodies(src []byte) []body {
	head := src[:min(len(src), 1024)]
	if bytes.Contains(head, []byte("DO NOT EDIT")) || bytes.Contains(head, []byte("@generated")) {
		return nil
	}
	lines := splitLines(src)
	inString := make([]bool, len(lines)) // the line starts inside a triple-quoted string
	open := ""
	for i, l := range lines {
		inString[i] = open != ""
		text := string(src[l.code:l.end])
		for text != "" {
			if open == "" {
				a, b := strings.Index(text, `"""`), strings.Index(text, `'''`)
				if a < 0 && b < 0 {
					break
				}
				if a < 0 || (b >= 0 && b < a) {
					a, open = b, `'''`
				} else {
					open = `"""`
				}
				text = text[a+3:]
			} else {
				c := strings.Index(text, open)
				if c < 0 {
					break
				}
				open, text = "", text[c+3:]
			}
		}
		code := string(src[l.code:l.end])
		quotes := strings.Contains(code, `"""`) || strings.Contains(code, `'''`)
		lines[i].fill = !inString[i] && !quotes && fillable(code, "#")
	}
	indent := func(l lineSpan) int { return l.code - l.start }
	var bodies []body
	for i, l := range lines {
		code := string(src[l.code:l.end])
		if inString[i] || !(strings.HasPrefix(code, "def ") || strings.HasPrefix(code, "async def ")) {
			continue
		}
		// The header may span lines: it ends at the line ending in ':' with brackets closed.
		depth, h := 0, i
		for ; h < len(lines); h++ {
			t := string(src[lines[h].code:lines[h].end])
			if c := strings.Index(t, "#"); c >= 0 {
				t = strings.TrimRight(t[:c], " \t")
			}
			depth += strings.Count(t, "(") + strings.Count(t, "[") - strings.Count(t, ")") - strings.Count(t, "]")
			if depth <= 0 && strings.HasSuffix(t, ":") {
				break
			}
		}
		first, last := h+1, h
		for j := h + 1; j < len(lines); j++ {
			if lines[j].code == lines[j].end { // blank
				continue
			}
			if !inString[j] && indent(lines[j]) <= indent(l) {
				break
			}
			last = j
		}
		if first <= last {
			bodies = append(bodies, body{lines: lines[first : last+1]})
		}
	}
	return bodies
}

// drawSpan picks a span of the kind inside b; ok is false when it found none.
func drawSpan(rng *rand.Rand, src []byte, b body, kind string) (start, end int, ok bool) {
	ls := b.lines
	switch kind {
	case KindSingleLine:
		var cand []int
		for i, l := range ls {
			if l.fill {
				cand = append(cand, i)
			}
		}
		if len(cand) == 0 {
			return 0, 0, false
		}
		l := ls[cand[rng.IntN(len(cand))]]
		return l.code, l.end, true
	case KindMultiLine:
		n := 2 + rng.IntN(5)
		if len(ls) < n {
			return 0, 0, false
		}
		i := rng.IntN(len(ls) - n + 1)
		a, z := ls[i], ls[i+n-1]
		if !a.fill || z.code == z.end {
			return 0, 0, false
		}
		return a.code, z.end, true
	case KindRandomSpan:
		lo, hi := ls[0].code, ls[len(ls)-1].end
		n := 5 + rng.IntN(76)
		if hi-lo < n {
			return 0, 0, false
		}
		start = lo + rng.IntN(hi-lo-n+1)
		for start < hi && !utf8.RuneStart(src[start]) {
			start++
		}
		end = min(start+n, hi)
		for end > start && end < len(src) && !utf8.RuneStart(src[end]) {
			end--
		}
		if end-start < 5 || len(bytes.TrimSpace(src[start:end])) == 0 {
			return 0, 0, false
		}
		return start, end, true
	}
	return 0, 0, false
}
