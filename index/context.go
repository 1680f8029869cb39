package index

import (
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dfim/dfim/infill/syntax"
)

// Retrieval windows, in lines around the cursor.
const (
	identLinesBefore = 32 // identifiers looked up: this many lines above the cursor…
	identLinesAfter  = 8  // …and this many below
	maxLookups       = 48 // most identifiers looked up per completion
	defsPerName      = 2  // most definitions of one name offered
	// Chunks of the current file this near the cursor are in the canvas
	// already.
	nearLinesBefore = 160
	nearLinesAfter  = 64
	minChunkSim     = 0.05
)

// Context returns cross-file context for a completion at offset in text
// (path's current text, a byte offset), at most budgetBytes long, for
// infill.Options.ExtraContext.
//
// It looks up the identifiers within identLinesBefore lines above and
// identLinesAfter below the cursor. Each definition found in another file
// of the same language family scores by the identifier's nearness to the
// cursor, its rarity (inverse document frequency over the files that
// refer to it), the nearness of the two files' folders, and whether it
// was written qualified by its folder's name (Go's pkg.Name). Chunks of
// the ring of recent edits and views score by the Jaccard similarity of
// their identifiers to the cursor window. Definitions get two thirds of
// the budget, chunks the rest (and what definitions leave).
//
// Each piece is headed by a comment with its path relative to the root, in
// the comment syntax of path's language ("// pkg/x.go", "# lib/y.py").
// Pieces come in ascending score, so the most useful one is last, right
// before the prefix: infill cuts extra context from the front.
//
// Context reads only memory: it holds the index's lock just long enough to
// look the names up, and never waits for a scan or a parse.
func (ix *Index) Context(path, text string, offset, budgetBytes int) string {
	if budgetBytes <= 0 || offset < 0 || offset > len(text) {
		return ""
	}
	path = ix.abs(path)
	lang := langOf(path)
	fam := syntax.Family(lang)
	cursorLine := strings.Count(text[:offset], "\n")
	win := cursorWindow(text, offset)

	defs := ix.rankDefinitions(path, fam, win, qualifiedAt(text, offset))
	chunks := ix.rankChunks(path, fam, cursorLine, win.idents)
	return ix.pack(lang, defs, chunks, budgetBytes)
}

// window is what retrieval knows of the text around the cursor.
type window struct {
	weight     map[string]float64             // identifier → nearness to the cursor, (0, 1]
	qualifiers map[string]map[string]struct{} // identifier → words written before it with a '.'
	idents     map[string]struct{}
}

func cursorWindow(text string, offset int) window {
	start := offset
	for n := 0; n <= identLinesBefore && start > 0; n++ {
		start = strings.LastIndexByte(text[:start-1], '\n') + 1
	}
	end := offset
	for n := 0; n <= identLinesAfter && end < len(text); n++ {
		if i := strings.IndexByte(text[end:], '\n'); i >= 0 {
			end += i + 1
		} else {
			end = len(text)
		}
	}
	seg := text[start:end]
	rel := offset - start
	w := window{weight: map[string]float64{}, qualifiers: map[string]map[string]struct{}{}, idents: map[string]struct{}{}}
	// Lines between the cursor and each byte of seg, counted once.
	nlBefore := strings.Count(seg[:rel], "\n")
	line := 0
	last := 0
	scanIdents(seg, func(name string, at int) {
		line += strings.Count(seg[last:at], "\n")
		last = at
		w.idents[name] = struct{}{}
		if at <= rel && at+len(name) >= rel {
			return // the word being typed: it is not a whole name yet
		}
		d := float64(nlBefore - line)
		if at > rel {
			d = float64(line-nlBefore) * 2 // text below the cursor matters less
		}
		wt := 1 / (1 + math.Abs(d)/4)
		if wt > w.weight[name] {
			w.weight[name] = wt
		}
		if at >= 2 && seg[at-1] == '.' {
			q := at - 1
			for q > 0 && isIdentByte(seg[q-1]) {
				q--
			}
			if q < at-1 {
				if w.qualifiers[name] == nil {
					w.qualifiers[name] = map[string]struct{}{}
				}
				w.qualifiers[name][seg[q:at-1]] = struct{}{}
			}
		}
	})
	return w
}

// scoredDef is a definition offered for the canvas.
type scoredDef struct {
	*Symbol
	score float64
}

// qualified is the `module.part` the cursor ends, if any: the module's
// definitions are what the user is choosing from.
type qualified struct{ module, part string }

func qualifiedAt(text string, offset int) qualified {
	p := offset
	for p > 0 && isIdentByte(text[p-1]) {
		p--
	}
	if p == 0 || text[p-1] != '.' {
		return qualified{}
	}
	q := p - 1
	for q > 0 && isIdentByte(text[q-1]) {
		q--
	}
	return qualified{module: text[q : p-1], part: text[p:offset]}
}

// Member limits for a `module.` at the cursor: those matching what is
// typed so far, or else any of the module's.
const (
	membersMatching = 8
	membersAny      = 6
	memberScore     = 100 // above any name's score: the user is choosing among these
)

// moduleMembers offers the definitions of the module written before the
// cursor that start with what follows the dot. ix.mu is held.
func (ix *Index) moduleMembers(path, fam string, q qualified) []scoredDef {
	files := ix.modules[q.module]
	if len(files) == 0 || q.module == "" {
		return nil
	}
	dir := filepath.Dir(path)
	inTest := isTestPath(path)
	var out []scoredDef
	for f := range files {
		e := ix.files[f]
		if f == path || e == nil || e.gone || syntax.Family(e.lang) != fam || !inTest && isTestPath(f) {
			continue
		}
		near := folderNearness(dir, filepath.Dir(f))
		for _, d := range e.defs {
			if !strings.HasPrefix(d.Name, q.part) || strings.HasPrefix(d.Name, "_") {
				continue
			}
			// Go code elsewhere sees only exported names.
			if d.Lang == "go" && filepath.Dir(f) != dir && !(d.Name[0] >= 'A' && d.Name[0] <= 'Z') {
				continue
			}
			s := memberScore * (1 + near)
			if q.part != "" {
				s *= 2
			}
			out = append(out, scoredDef{d, s})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Line < out[j].Line
	})
	limit := membersAny
	if q.part != "" {
		limit = membersMatching
	}
	return out[:min(len(out), limit)]
}

func (ix *Index) rankDefinitions(path, fam string, win window, q qualified) []scoredDef {
	names := make([]string, 0, len(win.weight))
	for n := range win.weight {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if win.weight[names[i]] != win.weight[names[j]] {
			return win.weight[names[i]] > win.weight[names[j]]
		}
		return names[i] < names[j]
	})
	dir := filepath.Dir(path)
	inTest := isTestPath(path)
	var out []scoredDef
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	// Names the current file defines are in its own text already.
	local := map[string]bool{}
	if e := ix.files[path]; e != nil {
		for _, d := range e.defs {
			local[d.Name] = true
		}
	}
	out = ix.moduleMembers(path, fam, q)
	offered := map[*Symbol]bool{}
	for _, d := range out {
		offered[d.Symbol] = true
	}
	kw := keywords[fam]
	looked := 0
	for _, name := range names {
		if looked == maxLookups {
			break
		}
		list := ix.byName[name]
		// Short names are mostly locals (i, c, ok) unless written pkg.Name.
		if len(list) == 0 || local[name] || kw[name] || len(name) < 3 && len(win.qualifiers[name]) == 0 {
			continue
		}
		looked++
		idf := math.Log(1 + float64(ix.live)/float64(1+ix.refFiles[name]))
		// A name defined in many places is likely none of them.
		idf /= math.Sqrt(float64(len(list)))
		var best [defsPerName]scoredDef
		for _, d := range list {
			if d.Path == path || syntax.Family(d.Lang) != fam {
				continue
			}
			s := win.weight[name] * idf * folderNearness(dir, filepath.Dir(d.Path))
			if _, ok := win.qualifiers[name][filepath.Base(filepath.Dir(d.Path))]; ok {
				s *= 3
			}
			if !inTest && isTestPath(d.Path) {
				s *= 0.2 // a test's helpers rarely serve the code under test
			}
			for i := range best {
				if best[i].Symbol == nil || s > best[i].score {
					copy(best[i+1:], best[i:len(best)-1])
					best[i] = scoredDef{d, s}
					break
				}
			}
		}
		for _, b := range best {
			if b.Symbol != nil && !offered[b.Symbol] {
				out = append(out, b)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

// isTestPath reports whether path looks like a test file or lives in a
// test folder.
func isTestPath(path string) bool {
	base := filepath.Base(path)
	if strings.Contains(base, "_test.") || strings.HasPrefix(base, "test_") ||
		strings.Contains(base, ".test.") || strings.Contains(base, ".spec.") {
		return true
	}
	dir := filepath.ToSlash(filepath.Dir(path)) + "/"
	return strings.Contains(dir, "/test/") || strings.Contains(dir, "/tests/") || strings.Contains(dir, "/testdata/")
}

// folderNearness is 1 for the same folder and falls with each step up or
// down between the two.
func folderNearness(a, b string) float64 {
	if a == b {
		return 1
	}
	const sep = filepath.Separator
	common := 0 // length of the leading folders a and b share
	for i := 0; ; i++ {
		endA := i == len(a) || a[i] == sep
		endB := i == len(b) || b[i] == sep
		if endA && endB {
			common = i
			if i == len(a) || i == len(b) {
				break
			}
			continue
		}
		if endA || endB || a[i] != b[i] {
			break
		}
	}
	steps := strings.Count(a[common:], string(sep)) + strings.Count(b[common:], string(sep))
	return 1 / (1 + 0.5*float64(steps))
}

type scoredChunk struct {
	*chunk
	score float64
}

func (ix *Index) rankChunks(path, fam string, cursorLine int, idents map[string]struct{}) []scoredChunk {
	var out []scoredChunk
	for _, c := range ix.ring.snapshot() {
		if syntax.Family(c.lang) != fam {
			continue
		}
		if c.path == path && overlap(c.first, c.last, cursorLine-nearLinesBefore, cursorLine+nearLinesAfter) > 0 {
			continue
		}
		if s := jaccard(c.idents, idents); s >= minChunkSim {
			out = append(out, scoredChunk{c, s})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

// pack chooses what fits in budget and writes it, best last.
func (ix *Index) pack(lang string, defs []scoredDef, chunks []scoredChunk, budget int) string {
	pre, suf := syntax.LineComment(lang)
	header := func(p string) int { return len(pre) + len(ix.rel(p)) + len(suf) + 1 }
	used := 0
	headed := map[string]bool{} // files that have a header already
	var chosenDefs []scoredDef
	defBudget := budget
	if len(chunks) > 0 {
		defBudget = budget * 2 / 3
	}
	for _, d := range defs {
		n := len(d.Snippet) + 1
		if !headed[d.Path] {
			n += header(d.Path)
		}
		if used+n > defBudget {
			continue
		}
		used += n
		headed[d.Path] = true
		chosenDefs = append(chosenDefs, d)
	}
	var chosenChunks []scoredChunk
	for _, c := range chunks {
		n := header(c.path) + len(c.text) + 1
		if used+n > budget {
			continue
		}
		used += n
		chosenChunks = append(chosenChunks, c)
	}
	// A definition a chosen chunk shows already is dropped.
	kept := chosenDefs[:0]
	for _, d := range chosenDefs {
		dup := false
		for _, c := range chosenChunks {
			if c.path == d.Path && d.Line-1 >= c.first && d.Line-1 < c.last {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, d)
		}
	}
	chosenDefs = kept

	var b strings.Builder
	b.Grow(used)
	writeBlock := func(p, text string) {
		b.WriteString(pre)
		b.WriteString(ix.rel(p))
		b.WriteString(suf)
		b.WriteByte('\n')
		b.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			b.WriteByte('\n')
		}
	}
	for i := len(chosenChunks) - 1; i >= 0; i-- {
		writeBlock(chosenChunks[i].path, chosenChunks[i].text)
	}
	// Definitions grouped by file; files in ascending order of their best
	// definition, definitions in file order.
	type group struct {
		path string
		best float64
		defs []*Symbol
	}
	var groups []*group
	byPath := map[string]*group{}
	for _, d := range chosenDefs {
		g := byPath[d.Path]
		if g == nil {
			g = &group{path: d.Path, best: d.score}
			byPath[d.Path] = g
			groups = append(groups, g)
		}
		g.defs = append(g.defs, d.Symbol)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].best < groups[j].best })
	for _, g := range groups {
		sort.Slice(g.defs, func(i, j int) bool { return g.defs[i].Line < g.defs[j].Line })
		var t strings.Builder
		for _, d := range g.defs {
			t.WriteString(d.Snippet)
			t.WriteByte('\n')
		}
		writeBlock(g.path, t.String())
	}
	return b.String()
}
