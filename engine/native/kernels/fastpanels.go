package kernels

// A product over a few rows (a cached denoising step: the hole's 4–16
// slots against every weight matrix) spends its time decoding the weight
// panels, not in the int8 tiles: each panel is decoded for one tile of four
// rows. decodePanelFast, where the CPU has one (AVX-512:
// fastpanels_simd.go), decodes whole panels of the common formats 16
// columns at a time: it loads 16 bytes of 16 rows, transposes them in
// registers to the tiles' layout (four inputs of 16 columns per vector)
// and computes the scales in vectors with the same float32 operations as
// the portable decoders, so the panel it writes is byte for byte theirs.

// fastPanels turns decodePanelFast on (benchmarks turn it off to compare
// with the portable decoders).
var fastPanels = true

// decodePanelFast decodes panel p of l into dst as decodePanelQ8 does and
// reports true, or reports false for a format or panel it does not take
// (then the portable decoder runs). Nil where the CPU has none.
var decodePanelFast func(l *linearBlocks, dst *kq8Panel, p int) bool
