package native

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/gguf"
)

// TestShiftKeysMatchesRoPE: the first layer's keys depend on the token and
// its position only, so a suffix's keys moved by shiftKeys must be those
// a pass computes at the new positions, for normal and neox RoPE.
func TestShiftKeysMatchesRoPE(t *testing.T) {
	for _, cfg := range []tinyConfig{llada(gguf.TypeF32), dream(gguf.TypeF32)} {
		t.Run(cfg.arch, func(t *testing.T) {
			m, _ := loadTiny(t, cfg)
			toks := randomTokens(newRand(4), 40)
			for _, shift := range []int{3, -5} {
				// b is a with shift tokens more (or fewer) before its last 20.
				var b []int32
				if shift > 0 {
					b = append(append(append(b, toks[:20]...), toks[:shift]...), toks[20:]...)
				} else {
					b = append(append(b, toks[:20+shift]...), toks[20:]...)
				}
				var ws workspace
				ka, kb := m.newKV(len(toks)), m.newKV(len(b))
				m.forward(&ws, passesOf([][]int32{toks}, []*kvCache{ka}, allRows(len(toks)), [][]int{{0}}))
				m.forward(&ws, passesOf([][]int32{b}, []*kvCache{kb}, allRows(len(b)), [][]int{{0}}))
				moved := m.newKV(len(b))
				moved.copyShifted(ka, 20, len(b)-20, 20, m.HeadDim)
				shiftKeys(moved, len(b)-20, len(b), shift, m.HeadDim, m.RopeBase, m.Neox)
				worst := 0.0
				for g := range m.KVHeads {
					for p := len(b) - 20; p < len(b); p++ {
						off := (g*len(b) + p) * m.HeadDim
						for i := range m.HeadDim {
							worst = max(worst, math.Abs(float64(moved.k[0][off+i]-kb.k[0][off+i])))
							if moved.v[0][off+i] != kb.v[0][off+i] {
								t.Fatalf("shift %d: value of position %d head %d differs: %v vs %v", shift, p, g, moved.v[0][off+i], kb.v[0][off+i])
							}
						}
					}
				}
				if worst > 1e-4 {
					t.Errorf("shift %d: moved keys differ from recomputed ones by up to %g", shift, worst)
				}
			}
		})
	}
}

// TestSuffixReused: after a keystroke at the cursor, the next request
// takes the keys of the unchanged text on both sides of the hole from the
// cache (the first pass computes the hole and the edit only), and an
// exact refresh within the request keeps them too; after
// Settings.PrefixReuse reuses, a request computes everything again.
func TestSuffixReused(t *testing.T) {
	for _, cfg := range []tinyConfig{llada(gguf.TypeF32), dream(gguf.TypeF32)} {
		t.Run(cfg.arch, func(t *testing.T) {
			d := newTiny(t, cfg, Settings{RefreshEvery: 2, PrefixReuse: 2})
			suffix := "\n\t\tfmt.Println(i, n)\n\t}\n\treturn names\n}\n"
			opts := engine.Options{Algorithm: engine.LowConfidence, Steps: 8, ExactLength: true}
			infill(t, d, engine.Request{Segments: lineCanvas(goPrefix, suffix, 8), Opts: opts})
			for _, typed := range []string{"f", "fm"} { // a character typed, then a second hole length
				segs := lineCanvas(goPrefix+typed, suffix, 8+len(typed))
				lay, err := d.buildLayout(segs, d.model.Context)
				if err != nil {
					t.Fatal(err)
				}
				u := d.reusable(lay)
				if u.from == nil || u.prefix < len(d.tok.Encode(goPrefix)) || u.suffix != len(d.tok.Encode(suffix)) {
					t.Fatalf("typed %q: reuse prefix %d suffix %d, want at least %d and %d", typed, u.prefix, u.suffix, len(d.tok.Encode(goPrefix)), len(d.tok.Encode(suffix)))
				}
				res := infill(t, d, engine.Request{Segments: segs, Opts: opts})
				if res.Candidates[0].Tokens[0] != 8+len(typed) {
					t.Errorf("typed %q: %d tokens filled, want %d", typed, res.Candidates[0].Tokens[0], 8+len(typed))
				}
			}
			segs := lineCanvas(goPrefix+"fm", suffix, 10)
			lay, _ := d.buildLayout(segs, d.model.Context)
			if u := d.reusable(lay); u.from != nil {
				t.Errorf("after %d reuses the cache still gives %d+%d positions; want an exact request", d.settings.PrefixReuse, u.prefix, u.suffix)
			}
		})
	}
}

// TestFirstPassRows: the first pass of a warm request, and the exact
// refreshes after it, compute only the rows between the reused prefix and
// suffix (with Shift, the row before the first slot too).
func TestFirstPassRows(t *testing.T) {
	d := newTiny(t, dream(gguf.TypeF32), Settings{RefreshEvery: 2, PrefixReuse: 4})
	suffix := strings.Repeat("\treturn names\n", 3) + "}\n"
	req := engine.Request{Segments: lineCanvas(goPrefix, suffix, 8), Opts: engine.Options{ExactLength: true}}
	infill(t, d, req)
	req.Segments = lineCanvas(goPrefix+"f", suffix, 8)
	lay, _ := d.buildLayout(req.Segments, d.model.Context)
	r := &denoising{d: d, lay: lay, p: d.schedule(req.Opts, lay), req: req}
	d.mu.Lock()
	defer d.mu.Unlock()
	r.begin()
	if !r.next() {
		t.Fatal("nothing to fill")
	}
	first := r.plan()
	P, S := len(d.tok.Encode(goPrefix)), len(d.tok.Encode(suffix))
	rows := first[0].rows
	if len(rows) == 0 || rows[0] != P-1 || rows[len(rows)-1] != len(lay.tokens)-S-1 {
		t.Fatalf("first pass rows %v, want %d to %d (the row before the edit to the end of the hole)", rows, P-1, len(lay.tokens)-S-1)
	}
}

// TestSuffixReusedWhereItMoved: the text after the hole is found whether
// the canvases end alike (a syntax repair re-masking part of the fill:
// its hole starts later and ends before the old fill's tail) or start
// alike after the hole (a keystroke, with the canvas's far end cut to a
// different length).
func TestSuffixReusedWhereItMoved(t *testing.T) {
	suffix := "\n\t\tfmt.Println(i, n)\n\t}\n\treturn names\n}\n"
	for _, c := range []struct {
		name   string
		segs   []engine.Segment
		suffix int // tokens reused after the hole
	}{
		{"repair", []engine.Segment{{Text: goPrefix + "x :="}, {Hole: true, MaxTok: 5}, {Text: "()" + suffix}}, len(suffix)},
		{"end cut", lineCanvas(goPrefix+"f", suffix[:len(suffix)-3], 8), len(suffix) - 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newTiny(t, dream(gguf.TypeF32), Settings{RefreshEvery: 8, PrefixReuse: 4})
			infill(t, d, engine.Request{Segments: lineCanvas(goPrefix, suffix, 12), Opts: engine.Options{ExactLength: true}})
			lay, err := d.buildLayout(c.segs, d.model.Context)
			if err != nil {
				t.Fatal(err)
			}
			u := d.reusable(lay)
			if u.from == nil || u.prefix != len(goPrefix) || u.suffix != c.suffix || u.at+u.suffix > len(lay.tokens) {
				t.Fatalf("reuse %+v, want the prefix's %d tokens and %d of the suffix", u, len(goPrefix), c.suffix)
			}
			infill(t, d, engine.Request{Segments: c.segs, Opts: engine.Options{ExactLength: true}})
		})
	}
}

// TestKeystrokesMatchExact measures what the caches cost over a run of
// keystrokes (a character typed before the hole each time, the default
// decoding: blocks of 4, threshold): the share of slots where the fill
// equals that of exact passes at every step, with issue 29's caches
// (both sides reused, steps over the current block), with both sides
// reused but steps over the whole hole, and with the prefix cache alone,
// as before; on the tiny models and two of llama.cpp's parity files.
func TestKeystrokesMatchExact(t *testing.T) {
	prefix := "package main\n\nfunc total(xs []int) int {\n\tsum := 0\n\tfor _, x := range xs {\n\t\tsum += x\n\t}\n\treturn "
	suffix := "\n}\n\nfunc main() {\n\tprintln(total([]int{1, 2, 3}))\n}\n"
	typed := "sum + len(xs)"
	// The tiny models, and two of llama.cpp's parity files.
	type model struct {
		name string
		open func(s Settings) *Denoiser
	}
	var models []model
	for _, cfg := range []tinyConfig{llada(gguf.TypeF32), dream(gguf.TypeF32)} {
		models = append(models, model{cfg.arch, func(s Settings) *Denoiser { return newTiny(t, cfg, s) }})
	}
	for _, name := range []string{"llada-q8_0.gguf", "dream-q8_0.gguf"} {
		models = append(models, model{name, func(s Settings) *Denoiser {
			d, err := Open(engine.Config{Model: "testdata/llamacpp/" + name, Threads: 1}, s)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return d
		}})
	}
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			old := DefaultSettings
			old.WholeHole, old.PrefixOnly = true, true
			exact := m.open(Settings{RefreshEvery: 1})
			wh := DefaultSettings
			wh.WholeHole = true
			ds := map[string]*Denoiser{"dual": m.open(DefaultSettings), "dual, whole hole": m.open(wh), "prefix-only": m.open(old)}
			same := map[string]int{}
			total := 0
			for i := range len(typed) {
				req := engine.Request{Segments: lineCanvas(prefix+typed[:i], suffix, 12), Opts: engine.Options{Steps: 6, ExactLength: true, Experts: "none"}}
				want := []rune(infill(t, exact, req).Candidates[0].Holes[0])
				total += len(want)
				for name, d := range ds {
					got := []rune(infill(t, d, req).Candidates[0].Holes[0])
					for j := range min(len(got), len(want)) {
						if got[j] == want[j] {
							same[name]++
						}
					}
				}
			}
			for _, name := range slices.Sorted(maps.Keys(ds)) {
				t.Logf("%s: agrees with exact passes on %.0f%% of %d slots", name, 100*float64(same[name])/float64(total), total)
			}
			if share := float64(same["dual"]) / float64(total); share < 0.35 {
				t.Errorf("the cached path agrees on %.0f%% of slots, want well above chance", 100*share)
			}
		})
	}
}
