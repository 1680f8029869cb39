package sample

import (
	"slices"
	"testing"
)

// wordVocab is a vocabulary of whole words and single bytes.
type wordVocab map[string]int32

func (v wordVocab) Prefix(text []byte) (int32, int, bool) {
	for n := len(text); n > 0; n-- {
		if t, ok := v[string(text[:n])]; ok {
			return t, n, true
		}
	}
	return 0, 0, false
}

func (v wordVocab) Suffix(text []byte) (int32, int, bool) {
	for n := len(text); n > 0; n-- {
		if t, ok := v[string(text[len(text)-n:])]; ok {
			return t, n, true
		}
	}
	return 0, 0, false
}

var words = wordVocab{"x := ": 1, "foo": 2, "bar": 3, "(1)": 4, "\n": 5, "y": 6, "\n\t": 7, "x": 8, " := ": 9, "baz": 10}

// canvas builds a TextCanvas from words, "?" for a masked slot.
func canvas(parts ...string) (*TextCanvas, int) {
	var toks []int32
	var known []bool
	slot := -1
	for _, p := range parts {
		if p == "?" {
			slot = len(toks)
			toks, known = append(toks, -1), append(known, false)
			continue
		}
		toks, known = append(toks, words[p]), append(known, true)
	}
	inv := map[int32][]byte{}
	for w, t := range words {
		inv[t] = []byte(w)
	}
	return NewTextCanvas(toks, known, func(t int32) []byte { return inv[t] }), slot
}

func TestCopyBiasLongestLeftMatch(t *testing.T) {
	// "\n\tx := foo(1)" earlier; "x := bar" too, but after a shorter match
	// of the slot's left text "\n\tx := ".
	c, slot := canvas("\n\t", "x := ", "foo", "(1)", "\n", "x := ", "bar", "\n\t", "x := ", "?", "\n")
	p := CopyParams{MinMatch: 3, MaxMatch: 48, Weight: 1, PerByte: 0.5}
	got := CopyBias(c, slot, words, p)
	want := []Bias{{Token: 2, Logit: 1 + 0.5*7}}
	if !slices.Equal(got, want) {
		t.Fatalf("CopyBias = %v, want %v", got, want)
	}
}

func TestCopyBiasIgnoresTokenBoundaries(t *testing.T) {
	// The slot's left text "x := " is one token here and two ("x", " := ")
	// where it occurred before: the match is on bytes.
	c, slot := canvas("x", " := ", "baz", "\n", "y", "\n", "x := ", "?")
	got := CopyBias(c, slot, words, CopyParams{MinMatch: 3, MaxMatch: 48, Weight: 1})
	if want := []Bias{{Token: 10, Logit: 1}}; !slices.Equal(got, want) {
		t.Fatalf("CopyBias = %v, want %v", got, want)
	}
}

func TestCopyBiasSharesAndRightSide(t *testing.T) {
	// "x := " is followed by foo once and bar once; on the right, "(1)\n"
	// is preceded by foo.
	c, slot := canvas("x := ", "foo", "(1)", "\n", "x := ", "bar", "\n", "y", "x := ", "?", "(1)", "\n")
	p := CopyParams{MinMatch: 3, MaxMatch: 5, Weight: 2}
	got := CopyBias(c, slot, words, p)
	slices.SortFunc(got, func(a, b Bias) int { return int(a.Token - b.Token) })
	want := []Bias{{Token: 2, Logit: 1 + 2}, {Token: 3, Logit: 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("CopyBias = %v, want %v", got, want)
	}
}

func TestCopyBiasNeedsKnownContext(t *testing.T) {
	c, slot := canvas("x := ", "foo", "\n", "?", "?")
	// The last slot's left neighbour is masked: no evidence.
	if got := CopyBias(c, slot, words, DefaultCopy); got != nil {
		t.Fatalf("CopyBias with a masked neighbour = %v, want nil", got)
	}
	// A match whose continuation is unknown copies nothing.
	c, slot = canvas("y", "x := ", "?", "\n", "y", "x := ", "?")
	if got := CopyBias(c, slot, words, CopyParams{MinMatch: 3, MaxMatch: 48, Weight: 1}); got != nil {
		t.Fatalf("CopyBias copying an unknown token = %v, want nil", got)
	}
}

func TestSelectRun(t *testing.T) {
	slots := []Slot{{Conf: 0.2}, {Conf: 0.95}, {Conf: 0.99}, {Conf: 0.5}, {Conf: 0.99}}
	adj := []bool{false, true, true, true, true}
	if got, want := SelectRun(slots, adj, 1, 0.9), []int{0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("SelectRun = %v, want %v (the first always, then confident neighbours up to the unsure one)", got, want)
	}
	adj[2] = false // slot 2 starts another hole
	if got, want := SelectRun(slots, adj, 1, 0.9), []int{0, 1}; !slices.Equal(got, want) {
		t.Errorf("SelectRun across a gap = %v, want %v", got, want)
	}
	slots[1].End = true // nothing is read after an end
	if got, want := SelectRun(slots, adj, 1, 0.9), []int{0, 1}; !slices.Equal(got, want) {
		t.Errorf("SelectRun after an end = %v, want %v", got, want)
	}
}

func TestSelectRunKeepsTheStepBudget(t *testing.T) {
	slots := []Slot{{Conf: 0.2}, {Conf: 0.1}, {Conf: 0.95}, {Conf: 0.1}}
	adj := []bool{false, true, true, true}
	if got, want := SelectRun(slots, adj, 2, 0.9), []int{0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("SelectRun(k=2) = %v, want %v", got, want)
	}
}

func TestIdentBias(t *testing.T) {
	v := wordVocab{"it": 1, "ems": 2, ".items": 3, ".len": 4, "s": 5, "x": 6, "size": 7}
	names := NewNames([]byte("s.items = append(s.items, x)\nn := s.len\nsize := 1\n"))
	// Inside a word: "si" goes on as "size" (once) or... "s" and "size" start with "s".
	c := NewTextCanvas([]int32{6, -1}, []bool{true, false}, func(t int32) []byte { return []byte("s") })
	got := IdentBias(c, 1, names, v, 4)
	// "s" occurs 3 times (twice before .items, once before .len), "size"
	// once: 4 in all; ".items" 2/4, ".len" 1/4, "ize"… has no token, so
	// size lends nothing.
	want := []Bias{{Token: 3, Logit: 2}, {Token: 4, Logit: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("after \"s\": IdentBias = %v, want %v", got, want)
	}
	// After "s.": the members of s.
	c = NewTextCanvas([]int32{6, -1}, []bool{true, false}, func(t int32) []byte { return []byte("s.it") })
	if got := IdentBias(c, 1, names, v, 4); !slices.Equal(got, []Bias{{Token: 2, Logit: 4}}) {
		t.Errorf("after \"s.it\": IdentBias = %v, want ems", got)
	}
	// After a space: no word to continue.
	c = NewTextCanvas([]int32{6, -1}, []bool{true, false}, func(t int32) []byte { return []byte("x ") })
	if got := IdentBias(c, 1, names, v, 4); got != nil {
		t.Errorf("after a space: IdentBias = %v, want nil", got)
	}
}

// Reveal gives the canvas a NewTextCanvas of the revealed tokens would.
func TestRevealMatchesALayoutAfresh(t *testing.T) {
	bytesOf := func(t int32) []byte { return []byte([]string{"", "ab", "c", "dddd", "e"}[t]) }
	toks := []int32{1, 2, 3, 4}
	known := []bool{true, false, false, true}
	c := NewTextCanvas(toks, known, bytesOf, "src ")
	c.Reveal(1, bytesOf(2))
	c.Reveal(2, bytesOf(3))
	want := NewTextCanvas(toks, []bool{true, true, true, true}, bytesOf, "src ")
	if string(c.Text) != string(want.Text) || !slices.Equal(c.Known, want.Known) || !slices.Equal(c.Start, want.Start) {
		t.Errorf("revealed %q %v %v, want %q %v %v", c.Text, c.Known, c.Start, want.Text, want.Known, want.Start)
	}
}
