package native

import (
	"slices"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/gguf"
)

// dreamOn is the tiny dream model with DreamOn's span tokens.
func dreamOn() tinyConfig {
	c := dream(gguf.TypeF32)
	c.vocab, c.spans = tinyVocab+2, true
	return c
}

// rig makes the sampler's picks on an expand-delete model: for the rows
// pick says (by step, the canvas's masked positions), the given span
// token wins outright; on every other row both span tokens lose, so the
// random weights never expand or delete on their own.
func rig(d *Denoiser, pick func(step int, want []int) (rows []int, token int32)) {
	V := d.model.Vocab
	d.rigLogits = func(c, step int, tokens []int32, want []int, logits []float32) {
		for j := range want {
			logits[j*V+int(d.spans.expand)] = -1e9
			logits[j*V+int(d.spans.delete)] = -1e9
		}
		rows, tok := pick(step, want)
		for _, j := range rows {
			logits[j*V+int(tok)] = 1e3
		}
	}
}

// first is the first masked row at the given steps.
func first(tok int32, steps ...int) func(int, []int) ([]int, int32) {
	return func(step int, want []int) ([]int, int32) {
		if slices.Contains(steps, step) {
			return []int{0}, tok
		}
		return nil, tok
	}
}

// TestExpandDelete: on an expand-delete model a hole of 4 masks grows by
// one slot for each slot decoded to <|expand|> and loses one for each
// <|delete|>, up to 4× its slots; the fill holds only real tokens.
func TestExpandDelete(t *testing.T) {
	d := newTiny(t, dreamOn(), DefaultSettings)
	if d.spans == nil || slices.Contains(d.special, d.spans.expand) || slices.Contains(d.special, d.spans.delete) {
		t.Fatalf("spans %+v, special %v: want the span tokens loaded and not banned", d.spans, d.special)
	}
	if lay, err := d.buildLayout(lineCanvas("a", "b", 4), d.model.Context); err != nil || lay.tokens[0] != tokBOS || lay.tokens[len(lay.tokens)-1] != tokEOS {
		t.Fatalf("layout %v (%v): want DreamOn's BOS first and EOS last", lay, err)
	}
	for _, tc := range []struct {
		name string
		pick func(int, []int) ([]int, int32)
		want int
	}{
		{"none", first(0), 4},
		{"expand thrice", first(d.spans.expand, 0, 1, 2), 7},
		{"delete twice", first(d.spans.delete, 0, 1), 2},
		{"delete all", func(step int, want []int) ([]int, int32) { return allRows(len(want)), d.spans.delete }, 0},
		{"expand to the cap", func(step int, want []int) ([]int, int32) { return allRows(len(want)), d.spans.expand }, maxGrowth * 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig(d, tc.pick)
			var lengths []int
			req := engine.Request{Segments: lineCanvas(goPrefix, goSuffix, 4), Opts: engine.Options{ExactLength: true},
				Observe: func(s engine.Step) { lengths = append(lengths, len(s.Holes[0].Tokens)) }}
			res := infill(t, d, req)
			f := res.Candidates[0]
			if f.Tokens[0] != tc.want || len(f.Spans[0]) != tc.want {
				t.Errorf("hole of 4 masks ended with %d tokens (%q), want %d; lengths by step %v", f.Tokens[0], f.Holes[0], tc.want, lengths)
			}
			if len(lengths) == 0 || lengths[len(lengths)-1] != tc.want {
				t.Errorf("the observer saw the hole's slots by step as %v, want it to end at %d", lengths, tc.want)
			}
			if strings.Contains(f.Holes[0], "<|") {
				t.Errorf("fill %q holds a special token", f.Holes[0])
			}
		})
	}
}

// TestExpandDeleteMovesLaterHoles: a hole that grows moves the holes
// after it; each hole keeps its own length and the text between them.
func TestExpandDeleteMovesLaterHoles(t *testing.T) {
	d := newTiny(t, dreamOn(), DefaultSettings)
	rig(d, first(0)) // span tokens never win
	segs := []engine.Segment{{Text: goPrefix}, {Hole: true, MaxTok: 4}, {Text: " := "}, {Hole: true, MaxTok: 3}, {Text: goSuffix}}
	base := infill(t, d, engine.Request{Segments: segs, Opts: engine.Options{ExactLength: true}}).Candidates[0]
	rig(d, first(d.spans.expand, 0, 1))
	var last engine.Step
	res := infill(t, d, engine.Request{Segments: segs, Opts: engine.Options{ExactLength: true, Candidates: 2},
		Observe: func(s engine.Step) {
			if s.Candidate == 0 {
				last = s
			}
		}})
	for c, f := range res.Candidates {
		if !slices.Equal(f.Tokens, []int{6, 3}) {
			t.Errorf("candidate %d: holes of 4 and 3 masks, the first expanded twice, ended with %v tokens (%q)", c, f.Tokens, f.Holes)
		}
	}
	if len(base.Tokens) != 2 || base.Tokens[0] != 4 || base.Tokens[1] != 3 {
		t.Errorf("without spans: %v tokens, want [4 3]", base.Tokens)
	}
	for _, h := range last.Holes {
		if strings.Contains(h.Text, engine.MaskGlyph) {
			t.Errorf("last step still shows a mask: %q", h.Text)
		}
	}
}

// TestFixedLengthIgnoresSpans: a model without the length mode denoises
// as before: the expand-delete path (and its test seam) is never used.
func TestFixedLengthIgnoresSpans(t *testing.T) {
	d := newTiny(t, dream(gguf.TypeF32), DefaultSettings)
	if d.spans != nil {
		t.Fatalf("spans %+v on a fixed-length model", d.spans)
	}
	d.rigLogits = func(int, int, []int32, []int, []float32) {
		t.Error("the expand-delete path ran on a fixed-length model")
	}
	res := infill(t, d, engine.Request{Segments: lineCanvas(goPrefix, goSuffix, 4), Opts: engine.Options{ExactLength: true}})
	if res.Candidates[0].Tokens[0] != 4 {
		t.Errorf("fixed hole of 4: %d tokens", res.Candidates[0].Tokens[0])
	}
}

// TestSpansKeys: a length mode dfim does not know, or span tokens
// missing, is refused with the key named.
func TestSpansKeys(t *testing.T) {
	for name, set := range map[string]func(w *gguf.Writer){
		"unknown mode": func(w *gguf.Writer) { w.SetString(LengthModeKey, "grow-shrink") },
		"no tokens":    func(w *gguf.Writer) { w.SetString(LengthModeKey, LengthExpandDelete) },
		"same token": func(w *gguf.Writer) {
			w.SetString(LengthModeKey, LengthExpandDelete)
			w.SetUint32(ExpandTokenKey, 7)
			w.SetUint32(DeleteTokenKey, 7)
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := gguf.NewWriter()
			set(w)
			data, err := w.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Parse("m.gguf", data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := loadSpans("m.gguf", f, 300); err == nil || !strings.Contains(err.Error(), LengthModeKey) {
				t.Errorf("error %v, want one naming %s", err, LengthModeKey)
			}
		})
	}
}
