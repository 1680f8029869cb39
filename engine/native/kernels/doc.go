// Package kernels holds the CPU arithmetic of the native engine: matrix
// multiplies against model weights (Linear) and activations (MatMul,
// MatMulT), and the row kernels of a transformer layer (RMSNorm, Softmax,
// SiLUMul, RoPE, Dot, Axpy, Scale, Add).
//
// Every kernel is a pure function of its arguments. Weights are packed once,
// at load time, into column panels of 32 output columns (k-major) so the
// inner loop broadcasts one activation and multiplies it into two 16-wide
// vectors of weights (AVX-512: 8 rows × 32 columns in tile_amd64.s, written
// straight to the result through masks). Attention's MatMulT reads its
// keys in place for short query blocks (16-wide dot products, tileT) and
// packs them into panels only when enough rows share the packing; its
// Softmax is one assembly routine (softmax_amd64.s). f16 weights stay half
// floats in those panels and are converted in registers by their tile
// (f16.go; VCVTPH2PS in f16_amd64.s), every level computing the same FMAs
// in the same order, bit for bit. q8_0 weights stay quantized and meet
// activations quantized to q8_0 blocks once per product, in exact int8 dot
// products (q8dot.go: VPDPBUSD with AVX-512 VNNI, VPMADDUBSW with AVX2,
// the same integers and float32 operations in plain Go), as llama.cpp
// computes them. The other block types of ggml that llama-quantize writes
// (quants.go: q4_0 and the K-quants; legacyquants.go: q4_1, q5_0, q5_1 and
// iq4_nl, its fallbacks for rows that are not whole 256-blocks;
// kquants23.go: q2_K, q3_K and iq4_xs) are not even copied: they are read
// in place from the file's mapping and decoded one panel at a time into a
// per-worker scratch buffer, to int8 for the same int8 tiles, with the
// activations quantized as llama.cpp quantizes them for each type (q8_0,
// q8_1 or q8_K; q8kquants.go). q2_K, whose minimums per 16 values the
// tiles do not take, is decoded to float32 for the float tile kernel, its
// activations rounded through q8_K. With few rows (a cached denoising
// step) the decoding is most of the work: with AVX-512, q4_0, q4_K, q5_0
// and q6_K panels are decoded 16 columns at a time, transposed in
// registers (fastpanels_simd.go), into the same bytes. Every decoder computes what ggml's
// dequantize_row_* does, float operation for float operation.
//
// Fast paths use Go's experimental simd/archsimd package and are built only
// with GOEXPERIMENT=simd on amd64 (files *_simd.go, and *_amd64.s for
// VPDPBUSD, which archsimd does not offer yet, and for kernels that need
// all 32 vector registers or masked tails); every archsimd kernel ends with
// archsimd.ClearAVXUpperBits (VZEROUPPER), because the compiler emits none
// and Go's scalar float code is SSE: on the Sapphire Rapids machine it was
// measured on, each SSE instruction after AVX-512 code with the upper
// halves dirty cost a state transition, ~300 ns per call of a 16-float
// Axpy against 9 ns with the upper halves cleared. The CPU's features are
// detected at run time and pick AVX-512, AVX2 or the portable pure-Go code,
// which is also what every other build gets (files *_portable.go). Features
// says which path runs. Large kernels split their work over a small
// persistent pool of worker goroutines (SetThreads); calls may be made from
// many goroutines at once, and a kernel called from inside another kernel's
// worker runs on the caller's goroutine rather than waiting for the pool.
//
// The package must not know about models, tokens or GGUF files beyond the
// byte layouts of f16, bf16 and ggml's block types. Slices that are too short for
// the shapes given are programming errors and panic, as copy and index
// expressions do; data read from files is checked by the constructors,
// which return errors.
package kernels
