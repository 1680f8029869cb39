package sample

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Decoding experts: distributions over a slot's token that do not come
// from the model, added to its logits (a product of experts). A small model
// knows syntax and idioms but cannot remember the names and phrases of this
// file; the canvas itself can.

// CopyParams weight the copy expert. A slot whose known neighbours match
// m bytes elsewhere in the canvas gets, for each token t that continues
// those matches, a logit offset of share(t) · (Weight + PerByte · m), where
// share is t's fraction of the matches. Longer matches are surer evidence.
type CopyParams struct {
	MinMatch int     // shortest match that counts, in bytes
	MaxMatch int     // longest match looked for, in bytes
	Weight   float32 // logit offset of a sole continuation at any match length
	PerByte  float32 // added per matched byte
}

// DefaultCopy is tuned on ../shared/eval/dev.jsonl with the built-in model
// (see the README's quality table).
var DefaultCopy = CopyParams{MinMatch: 2, MaxMatch: 24, Weight: 3, PerByte: 1}

// A TextCanvas is a canvas as the copy expert reads it: the bytes of every
// token, with the bytes of tokens that are not real text (masks, pads)
// marked unknown. Matching bytes rather than tokens makes the expert blind
// to how a text happened to be cut into tokens: at the edge of a hole the
// prefix ends in a token ("\n\t\t") that the same text elsewhere never has.
type TextCanvas struct {
	Text  []byte
	Known []bool // per byte
	Start []int  // per token: offset of its first byte in Text
}

// NewTextCanvas lays out tokens after sources (text the model does not
// see but the expert may copy from); bytesOf gives a token's bytes and
// known[i] says token i is real text (fixed or committed content).
func NewTextCanvas(tokens []int32, known []bool, bytesOf func(int32) []byte, sources ...string) *TextCanvas {
	c := &TextCanvas{Start: make([]int, len(tokens)+1)}
	for _, s := range sources {
		c.Text = append(c.Text, s...)
		c.Text = append(c.Text, 0) // a break no match runs across
		for range len(s) {
			c.Known = append(c.Known, true)
		}
		c.Known = append(c.Known, false)
	}
	for i, t := range tokens {
		c.Start[i] = len(c.Text)
		if !known[i] {
			c.Text = append(c.Text, 0)
			c.Known = append(c.Known, false)
			continue
		}
		b := bytesOf(t)
		c.Text = append(c.Text, b...)
		for range b {
			c.Known = append(c.Known, true)
		}
	}
	c.Start[len(tokens)] = len(c.Text)
	return c
}

// Reveal makes token i real text with bytes b (a tentative pick the next
// slot may read), shifting the text after it; cheaper than laying out the
// canvas and its sources again for every slot of a step.
func (c *TextCanvas) Reveal(i int, b []byte) {
	s, e := c.Start[i], c.Start[i+1]
	text := append(append(slices.Clip(c.Text[:s]), b...), c.Text[e:]...)
	known := slices.Clip(c.Known[:s])
	for range b {
		known = append(known, true)
	}
	c.Text, c.Known = text, append(known, c.Known[e:]...)
	for k := i + 1; k < len(c.Start); k++ {
		c.Start[k] += len(b) - (e - s)
	}
}

// A Vocab finds tokens for the copy expert: the token with the longest
// bytes that begin (Prefix) or end (Suffix) the given text, and its length
// in bytes; ok is false when none does.
type Vocab interface {
	Prefix(text []byte) (tok int32, n int, ok bool)
	Suffix(text []byte) (tok int32, n int, ok bool)
}

// CopyBias is the copy expert at token slot pos of c: wherever else in the
// canvas the known text left of the slot occurs (the longest such match,
// at least MinMatch bytes), the token that starts the text following it;
// and symmetrically, wherever the known text right of the slot occurs, the
// token that ends the text before it. It is the "copy what followed the
// longest match of the left context elsewhere in the file" lookup table as
// a distribution; nil when neither side matches.
func CopyBias(c *TextCanvas, pos int, v Vocab, p CopyParams) []Bias {
	if p.MaxMatch <= 0 || pos < 0 || pos+1 >= len(c.Start) {
		return nil
	}
	minM := max(p.MinMatch, 1)
	var out []Bias
	add := func(share map[int32]int, total, m int) {
		w := p.Weight + p.PerByte*float32(m)
		for t, n := range share {
			b := w * float32(n) / float32(total)
			i := 0
			for i < len(out) && out[i].Token != t {
				i++
			}
			if i == len(out) {
				out = append(out, Bias{Token: t})
			}
			out[i].Logit += b
		}
	}
	at, end := c.Start[pos], c.Start[pos+1]
	if share, total, m := matchLeft(c, at, end, v, minM, p.MaxMatch); total > 0 {
		add(share, total, m)
	}
	if share, total, m := matchRight(c, at, end, v, minM, p.MaxMatch); total > 0 {
		add(share, total, m)
	}
	// In token order: the shares come out of maps, and CopyPick's ties and
	// its sums must not depend on map order (the copy baseline differed
	// from run to run).
	slices.SortFunc(out, func(a, b Bias) int { return cmp.Compare(a.Token, b.Token) })
	return out
}

// maxCopy is how far past a match the copied text is read.
const maxCopy = 32

// tally keeps the continuations of the longest matches seen so far.
type tally struct {
	best, total int
	share       map[int32]int
}

// add counts tok as the continuation of a match of m bytes, unless a
// longer match has been seen; a longer one starts the count afresh.
func (t *tally) add(m int, tok int32) {
	if m < t.best {
		return
	}
	if m > t.best {
		t.best, t.total, t.share = m, 0, map[int32]int{}
	}
	t.share[tok]++
	t.total++
}

// matchLeft matches the known bytes before at (the slot's bytes are
// [at, end)) against every other place of the canvas, and counts the
// tokens that start the known text after the longest matches.
func matchLeft(c *TextCanvas, at, end int, v Vocab, minM, maxM int) (map[int32]int, int, int) {
	run := 0
	for run < maxM && at-1-run >= 0 && c.Known[at-1-run] {
		run++
	}
	if run < minM {
		return nil, 0, 0
	}
	var t tally
	for q := 1; q < len(c.Text); q++ {
		if q >= at && q < end || !c.Known[q] {
			continue
		}
		m := 0
		for m < run && q-1-m >= 0 && c.Known[q-1-m] && c.Text[q-1-m] == c.Text[at-1-m] {
			m++
		}
		if m < minM || m < t.best {
			continue
		}
		stop := q
		for stop < len(c.Text) && stop-q < maxCopy && c.Known[stop] {
			stop++
		}
		if tok, _, ok := v.Prefix(c.Text[q:stop]); ok {
			t.add(m, tok)
		}
	}
	return t.share, t.total, t.best
}

// matchRight is matchLeft mirrored: the known bytes from end on, matched
// elsewhere, and the tokens that end the known text before those matches.
func matchRight(c *TextCanvas, at, end int, v Vocab, minM, maxM int) (map[int32]int, int, int) {
	n := len(c.Text)
	run := 0
	for run < maxM && end+run < n && c.Known[end+run] {
		run++
	}
	if run < minM {
		return nil, 0, 0
	}
	var t tally
	for q := 1; q < n; q++ { // q: where the matched text starts elsewhere
		if q >= at && q <= end || !c.Known[q-1] {
			continue
		}
		m := 0
		for m < run && q+m < n && c.Known[q+m] && c.Text[q+m] == c.Text[end+m] {
			m++
		}
		if m < minM || m < t.best {
			continue
		}
		from := q
		for from > 0 && q-from < maxCopy && c.Known[from-1] {
			from--
		}
		if tok, _, ok := v.Suffix(c.Text[from:q]); ok {
			t.add(m, tok)
		}
	}
	return t.share, t.total, t.best
}

// CopyPick is the copy-only baseline's choice at a slot: the token the
// copy expert favours most, or end when it has no evidence. Prob is the
// softmax of the offsets beside an end token at 0, so a long, unanimous
// match is sure and a split one is not.
func CopyPick(b []Bias, end int32) Pick {
	best := -1
	for i := range b {
		if best < 0 || b[i].Logit > b[best].Logit {
			best = i
		}
	}
	if best < 0 {
		return Pick{Token: end, Prob: 1, Conf: 1}
	}
	z := 1.0
	for _, x := range b {
		z += math.Exp(float64(x.Logit))
	}
	lp := float64(b[best].Logit) - math.Log(z)
	return Pick{Token: b[best].Token, Prob: float32(math.Exp(lp)), LogProb: lp, Conf: float32(math.Exp(lp))}
}

// Names are the identifiers of a canvas and its sources with how often
// each occurs, and, for member access, which names follow "x." for each x:
// the identifier expert's view of what is in scope.
type Names struct {
	all     []nameCount            // sorted by name
	members map[string][]nameCount // receiver → names after "receiver.", sorted
	after   []nameCount            // every name after a ".", sorted
}

type nameCount struct {
	name string
	n    int
}

func isIdentByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

// NewNames collects the identifiers of texts.
func NewNames(texts ...[]byte) *Names {
	all, after := map[string]int{}, map[string]int{}
	members := map[string]map[string]int{}
	for _, t := range texts {
		for i := 0; i < len(t); {
			if !isIdentByte(t[i]) || t[i] >= '0' && t[i] <= '9' {
				i++
				continue
			}
			j := i
			for j < len(t) && isIdentByte(t[j]) {
				j++
			}
			name := string(t[i:j])
			all[name]++
			if i > 1 && t[i-1] == '.' {
				after[name]++
				r := i - 1
				for r > 0 && isIdentByte(t[r-1]) {
					r--
				}
				if recv := string(t[r : i-1]); recv != "" {
					if members[recv] == nil {
						members[recv] = map[string]int{}
					}
					members[recv][name]++
				}
			}
			i = j
		}
	}
	n := &Names{all: sortedNames(all), after: sortedNames(after), members: map[string][]nameCount{}}
	for r, m := range members {
		n.members[r] = sortedNames(m)
	}
	return n
}

func sortedNames(m map[string]int) []nameCount {
	out := make([]nameCount, 0, len(m))
	for k, v := range m {
		out = append(out, nameCount{k, v})
	}
	slices.SortFunc(out, func(a, b nameCount) int { return strings.Compare(a.name, b.name) })
	return out
}

// withPrefix is the run of names that start with p.
func withPrefix(names []nameCount, p string) []nameCount {
	i, _ := slices.BinarySearchFunc(names, p, func(a nameCount, p string) int { return strings.Compare(a.name, p) })
	j := i
	for j < len(names) && strings.HasPrefix(names[j].name, p) {
		j++
	}
	return names[i:j]
}

// IdentBias is the identifier expert at token slot pos of c: where the
// known text left of the slot ends inside a name (or right after a "."),
// the names of n that continue it, each lending its share of occurrences
// to the token that starts its rest, times weight. After "x." the names
// seen after "x." count, else any name seen after a "."; inside a word,
// any name with that start, and the word as it stands counts as a name
// that ends here (so a complete name is not pushed to grow) or, as often
// as "word.member" occurs, goes on with ".member" (BPE joins the dot to
// the name, so that is one token). nil when the slot does not continue a
// name.
func IdentBias(c *TextCanvas, pos int, n *Names, v Vocab, weight float32) []Bias {
	if n == nil || weight == 0 || pos < 0 || pos+1 >= len(c.Start) {
		return nil
	}
	at := c.Start[pos]
	w := at
	for w > 0 && c.Known[w-1] && isIdentByte(c.Text[w-1]) {
		w--
	}
	word := string(c.Text[w:at])
	var pool []nameCount
	switch {
	case w > 0 && c.Known[w-1] && c.Text[w-1] == '.':
		r := w - 1
		for r > 0 && c.Known[r-1] && isIdentByte(c.Text[r-1]) {
			r--
		}
		pool = n.members[string(c.Text[r:w-1])]
		if len(withPrefix(pool, word)) == 0 {
			pool = n.after
		}
	case word != "" && !(word[0] >= '0' && word[0] <= '9'):
		pool = n.all
	default:
		return nil
	}
	cands := withPrefix(pool, word)
	total := 0
	share := map[int32]int{}
	for _, nc := range cands {
		total += nc.n
		if len(nc.name) == len(word) {
			// The word is already this name: it ends here, or goes on as
			// "word.member" as often as the text has that.
			if pool := n.members[word]; len(pool) > 0 && !(w > 0 && c.Text[w-1] == '.') {
				for _, m := range pool {
					if tok, _, ok := v.Prefix([]byte("." + m.name)); ok {
						share[tok] += m.n
					}
				}
			}
			continue
		}
		if tok, _, ok := v.Prefix([]byte(nc.name[len(word):])); ok {
			share[tok] += nc.n
		}
	}
	if len(share) == 0 {
		return nil
	}
	out := make([]Bias, 0, len(share))
	for t, k := range share {
		out = append(out, Bias{Token: t, Logit: weight * float32(k) / float32(total)})
	}
	slices.SortFunc(out, func(a, b Bias) int { return int(a.Token - b.Token) })
	return out
}
