package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFastPanels checks that decodePanelFast writes byte for byte the
// panels of the portable decoders, on raw random bytes (scales that are
// zeros, subnormals, infinities and NaNs included), for every format and
// a last panel short of 32 columns, at every level.
func TestFastPanels(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	defer func(v bool) { fastPanels = v }(fastPanels)
	for _, f := range allFormats {
		if f.kind == kindQ2_K {
			continue
		}
		shapes := []struct{ in, out int }{{256, 32}, {512, 70}, {1536, 64}}
		if f.values == 32 {
			shapes = append(shapes, struct{ in, out int }{32, 64}, struct{ in, out int }{96, 40})
		}
		for _, s := range shapes {
			raw := make([]byte, s.out*s.in/f.values*f.bytes)
			for i := range raw {
				raw[i] = byte(r.Uint32())
			}
			lin, err := newLinearBlocks(f, raw, s.out, s.in)
			if err != nil {
				t.Fatal(err)
			}
			l := lin.(*linearBlocks)
			forEachLevel(t, func(t *testing.T) {
				for p := range (s.out + panelCols - 1) / panelCols {
					fastPanels = false
					want := getKQ8Panel(s.in)
					l.decodePanelQ8(want, p)
					fastPanels = true
					got := getKQ8Panel(s.in)
					for i := range got.wq { // not what the decoders write
						got.wq[i] = 0x55
					}
					for i := range got.ws {
						got.ws[i], got.wm[i] = 7, 7
					}
					l.decodePanelQ8(got, p)
					where := fmt.Sprintf("%s %d×%d panel %d", f.name, s.out, s.in, p)
					for i := range want.wq {
						if got.wq[i] != want.wq[i] {
							t.Fatalf("%s: quant byte %d = %#x, want %#x", where, i, got.wq[i], want.wq[i])
						}
					}
					_, mins := f.actQuant()
					nb := s.in / f.actQuantBlock() * panelCols
					for i := range nb {
						if !sameFloat(got.ws[i], want.ws[i]) {
							t.Fatalf("%s: scale %d = %g, want %g", where, i, got.ws[i], want.ws[i])
						}
						if mins && !sameFloat(got.wm[i], want.wm[i]) {
							t.Fatalf("%s: minimum %d = %g, want %g", where, i, got.wm[i], want.wm[i])
						}
					}
					kq8Pool.Put(want)
					kq8Pool.Put(got)
				}
			})
		}
	}
}

// actQuantBlock is the number of inputs per scale of f's decoded panels.
func (f blockFormat) actQuantBlock() int {
	kind, _ := f.actQuant()
	return kind.blockLen()
}

// sameFloat reports whether a and b have the same bits, or are both NaNs.
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}
