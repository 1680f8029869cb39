package index

import (
	"strings"
	"sync"
)

// A chunk is a run of lines the user recently edited or looked at, as
// llama.vim keeps them: retrieval offers the ones most like the text
// around the cursor. Chunks are immutable; the ring replaces them.
type chunk struct {
	path, lang  string
	first, last int // lines [first, last), 0-based
	text        string
	idents      map[string]struct{}
}

// ring holds the most recent chunks, oldest first.
type ring struct {
	size, lines int
	// mu guards chunks.
	mu     sync.Mutex
	chunks []*chunk
}

func newRing(size, lines int) *ring { return &ring{size: size, lines: lines} }

// similarEnough is the Jaccard similarity above which a new chunk evicts an
// old one, as llama.vim does: two near-copies waste the budget.
const similarEnough = 0.9

// touch records the lines around offset in text. A position well inside a
// chunk of the same file refreshes that chunk (an edit in progress); any
// other starts a new chunk, evicting overlapping and near-identical ones.
func (r *ring) touch(path, lang, text string, offset int) {
	offset = max(0, min(offset, len(text)))
	line := strings.Count(text[:offset], "\n")
	r.mu.Lock()
	first := -1
	for _, c := range r.chunks {
		if c.path == path && line >= c.first+r.lines/4 && line < c.last-r.lines/4 {
			first = c.first
			break
		}
	}
	r.mu.Unlock()
	if first < 0 {
		first = max(0, line-r.lines/2)
	}
	body, last := linesOf(text, offset, line, first, first+r.lines)
	if strings.TrimSpace(body) == "" {
		return
	}
	c := &chunk{path: path, lang: lang, first: first, last: last, text: body, idents: identSet(body)}

	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.chunks[:0]
	for _, o := range r.chunks {
		sameLines := o.path == path && overlap(o.first, o.last, first, last) > (last-first)/2
		if sameLines || jaccard(o.idents, c.idents) > similarEnough {
			continue
		}
		kept = append(kept, o)
	}
	clear(r.chunks[len(kept):])
	r.chunks = append(kept, c)
	if len(r.chunks) > r.size {
		n := copy(r.chunks, r.chunks[len(r.chunks)-r.size:])
		clear(r.chunks[n:])
		r.chunks = r.chunks[:n]
	}
}

// snapshot returns the chunks, oldest first; the slice is the caller's.
func (r *ring) snapshot() []*chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*chunk(nil), r.chunks...)
}

// linesOf cuts lines [first, last) out of text, given that offset lies on
// line; it returns the text and the line after the last one it got.
func linesOf(text string, offset, line, first, last int) (string, int) {
	// Back from offset's line start to first's start.
	start := strings.LastIndexByte(text[:offset], '\n') + 1
	for l := line; l > first && start > 0; l-- {
		start = strings.LastIndexByte(text[:start-1], '\n') + 1
	}
	end, l := start, first
	for l < last && end < len(text) {
		i := strings.IndexByte(text[end:], '\n')
		if i < 0 {
			end = len(text)
		} else {
			end += i + 1
		}
		l++
	}
	return text[start:end], l
}

func overlap(a0, a1, b0, b1 int) int { return max(0, min(a1, b1)-max(a0, b0)) }

// jaccard is |a ∩ b| / |a ∪ b|.
func jaccard(a, b map[string]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	both := 0
	for k := range a {
		if _, ok := b[k]; ok {
			both++
		}
	}
	return float64(both) / float64(len(a)+len(b)-both)
}

// identSet is the set of identifiers in text.
func identSet(text string) map[string]struct{} {
	set := map[string]struct{}{}
	scanIdents(text, func(name string, _ int) { set[name] = struct{}{} })
	return set
}

// scanIdents calls fn for every identifier-like word in text (letters,
// digits, '_' and any non-ASCII byte, not starting with a digit) with its
// offset. It is lexical on purpose: the text around a cursor rarely parses.
func scanIdents(text string, fn func(name string, at int)) {
	for i := 0; i < len(text); {
		c := text[i]
		if !isIdentByte(c) {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && isIdentByte(text[j]) {
			j++
		}
		if c < '0' || c > '9' {
			fn(text[i:j], i)
		}
		i = j
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
