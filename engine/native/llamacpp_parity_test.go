package native

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/kernels"
)

// llamaCppIndex is testdata/llamacpp/index.json, written by make.sh there:
// small random-weight models in llama.cpp's converter layout, quantized by
// its llama-quantize, with the logits llama.cpp computed for fixed
// canvases (or the error it refused the file with).
type llamaCppIndex struct {
	LlamaCpp struct {
		Commit string `json:"commit"`
	} `json:"llama_cpp"`
	Models []llamaCppModel `json:"models"`
}

type llamaCppModel struct {
	File     string    `json:"file"`
	Arch     string    `json:"arch"`
	Variant  string    `json:"variant"`
	Type     string    `json:"type"`
	Quantize string    `json:"quantize"` // how record.py made the file
	Refused  string    `json:"refused"`
	Shift    bool      `json:"shift_logits"`
	Vocab    int       `json:"n_vocab"`
	Canvases [][]int32 `json:"canvases"`
	Logits   string    `json:"logits"` // float32 LE, unshifted rows of every canvas in order
	// Exact is llama.cpp on the same weights dequantized to f32 (absent for
	// f32 files, whose Logits are exact already).
	Exact string `json:"exact_logits"`
}

// llamaCppTight bounds the logit difference between dfim and llama.cpp
// both computing in float32 on the file's weights dequantized, each by its
// own decoder: the same numbers, only the order of summation differs
// (measured: about 1e-5).
const llamaCppTight = 1e-3

// llamaCppTolerance bounds the logit difference between dfim's run of a
// file, as its kernels compute it, and both llama.cpp runs, per type. The
// runs differ in what the kernels do to a matrix product's input:
// llama.cpp's own run (logits) rounds it to f16 for f16 weights and to
// bf16 for bf16 weights, and quantizes it per block to 8 bits (q8_0 for
// q8_0 and q4_0 weights, q8_K for the K-quants); its run on the weights
// dequantized to f32 (exact_logits) keeps it in float32; dfim may do
// either (float32 activations, or int8 products). The logits of these
// models spread over about ±10; measured differences between llama.cpp's
// two runs are up to 0.01 (f16), 0.07 (bf16) and 0.4 (8-bit activations),
// the same for llada-moe's experts as for the dense matrices.
var llamaCppTolerance = map[string]float64{
	"f32": llamaCppTight, "f16": 0.03, "bf16": 0.2, "q8_0": 0.6, "q4_0": 0.6,
	"q4_k": 0.6, "q5_k": 0.6, "q6_k": 0.6, "q4_k_m": 0.6,
	// make.sh's 896-wide models (rows that are not whole 256-blocks): the
	// legacy types and llama-quantize's mixes with their fallbacks.
	"q4_1": 0.6, "q5_0": 0.6, "q5_1": 0.6, "iq4_nl": 0.6, "iq4_xs": 0.6,
	"q5_k_m": 0.6, "q3_k_m": 0.6, "q2_k": 0.6, "q3_k": 0.6,
}

// TestLlamaCppParity runs every file of testdata/llamacpp through dfim's
// probe path (Denoiser.Logits, what `dfim model probe` prints) and compares
// with llama.cpp's logits for the same canvases.
//
// First exactly: dfim on the file's weights decoded to f32 by its own
// dequantizers, against llama.cpp on the same weights decoded by
// llama-quantize (exact_logits), both in float32. They must agree within
// llamaCppTight and on the top token at every position; that checks the
// graph (biases, RoPE, shift, QK-norm, routing) and every dequantization.
//
// Then the file as it is, through the kernels its types select: within the
// type's tolerance of both llama.cpp runs, and on the top token wherever
// that run's first two are further apart than a quarter of it (closer,
// they are a tie that the rounding of the activations decides; measured:
// where llama.cpp's two runs disagree, their first two are at most 0.09
// apart). Whether dfim's kernels round the activations as llama.cpp's do
// is logged: with int8 q8_0 products they agree with its own run to 1e-6,
// unless a value a last bit apart upstream (RoPE, softmax) rounds to the
// other side of a half step in a later 8-bit block.
//
// Files llama.cpp refuses must load in dfim with a warning saying so.
func TestLlamaCppParity(t *testing.T) {
	dir := filepath.Join("testdata", "llamacpp")
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatalf("testdata/llamacpp/make.sh writes index.json: %v", err)
	}
	var index llamaCppIndex
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if len(index.Models) == 0 || index.LlamaCpp.Commit == "" {
		t.Fatalf("index.json names no models or no llama.cpp commit")
	}
	t.Logf("references from llama.cpp %s", index.LlamaCpp.Commit)
	for _, e := range index.Models {
		t.Run(strings.TrimSuffix(e.File, ".gguf"), func(t *testing.T) {
			path := filepath.Join(dir, e.File)
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			checkLlamaCppTypes(t, e, f)
			d, err := New(path, f, DefaultSettings)
			if err != nil {
				f.Close()
				t.Fatal(err)
			}
			defer d.Close()
			m := d.Model()
			checkLlamaCppWarnings(t, e, m.Warnings)
			if e.Refused != "" {
				if !strings.Contains(e.Refused, "wrong number of tensors") {
					t.Errorf("llama.cpp refused %s for another reason than its tensor count: %s", e.File, e.Refused)
				}
				return
			}
			if m.Shift != e.Shift {
				t.Errorf("dfim shifts logits: %v; llama.cpp's diffusion CLI: %v", m.Shift, e.Shift)
			}
			if m.Vocab != e.Vocab {
				t.Fatalf("vocabulary %d, llama.cpp %d", m.Vocab, e.Vocab)
			}
			tol, ok := llamaCppTolerance[e.Type]
			if !ok {
				t.Fatalf("no tolerance for type %q", e.Type)
			}
			own := readLlamaCppLogits(t, filepath.Join(dir, e.Logits), e)
			exact := own
			if e.Exact != "" {
				exact = readLlamaCppLogits(t, filepath.Join(dir, e.Exact), e)
			}

			// Exactly: both in float32 on the weights decoded.
			dq := dequantizedDenoiser(t, path)
			x := compareLlamaCpp(e, llamaCppCanvases(t, dq, e), exact)
			if x.worst > llamaCppTight {
				t.Errorf("on the weights decoded to f32, logits differ from llama.cpp's by up to %.4g at canvas %d position %d (tolerance %g)", x.worst, x.at[0], x.at[1], llamaCppTight)
			}
			for _, a := range x.argmax {
				t.Errorf("on the weights decoded to f32, canvas %d position %d: dfim's top token %d, llama.cpp's %d (its margin %.4f)", a.canvas, a.pos, a.mine, a.want, a.margin)
			}

			// The file as it is.
			got := llamaCppCanvases(t, d, e)
			runs := []struct {
				name string
				d    llamaCppDiff
			}{{"llama.cpp on the weights in f32", compareLlamaCpp(e, got, exact)}, {"llama.cpp's own run", compareLlamaCpp(e, got, own)}}
			// Where dfim's top token is one of llama.cpp's two runs' (they
			// disagree at a near-tie), it is as right as llama.cpp is.
			differs := [2]map[[2]int]bool{{}, {}}
			for i, r := range runs {
				for _, a := range r.d.argmax {
					differs[i][[2]int{a.canvas, a.pos}] = true
				}
			}
			for i, r := range runs {
				if r.d.worst > tol {
					t.Errorf("logits differ from %s by up to %.4g at canvas %d position %d (tolerance %g for %s)", r.name, r.d.worst, r.d.at[0], r.d.at[1], tol, e.Type)
				}
				for _, a := range r.d.argmax {
					if a.margin > tol/4 && differs[1-i][[2]int{a.canvas, a.pos}] {
						t.Errorf("canvas %d position %d: dfim's top token %d, %s's %d (its margin %.4f > %g)", a.canvas, a.pos, a.mine, r.name, a.want, a.margin, tol/4)
					}
				}
			}
			kernels := "float32 activations"
			if runs[1].d.worst < runs[0].d.worst {
				kernels = "activations rounded as llama.cpp's kernels do"
			}
			t.Logf("decoded to f32: %.2g (tolerance %g); as the file is (%s): %s %.2g (%s), %s %.2g (%s); tolerance %g",
				x.worst, llamaCppTight, kernels, runs[0].name, runs[0].d.worst, runs[0].d.ties(), runs[1].name, runs[1].d.worst, runs[1].d.ties(), tol)
		})
	}
}

// llamaCppCanvases runs each canvas of e through d.Logits.
func llamaCppCanvases(t *testing.T, d *Denoiser, e llamaCppModel) [][]float32 {
	t.Helper()
	var got [][]float32
	for _, toks := range e.Canvases {
		l, err := d.Logits(toks)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	return got
}

// dequantizedDenoiser loads the GGUF file at path with every tensor
// decoded to f32 by dfim's own dequantizers, so that the model computes in
// float32 throughout.
func dequantizedDenoiser(t *testing.T, path string) *Denoiser {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(path, raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range f.Tensors {
		if ti.Type == gguf.TypeF32 {
			continue
		}
		v := make([]float32, ti.Elements())
		if kernels.BlockFormat(ti.Type.String()) { // q4_0, q5_0, iq4_nl, the K-quants, ...
			err = kernels.DequantizeBlocks(ti.Type.String(), v, ti.Data)
		} else { // f16, bf16, q8_0
			v, err = ti.Float32s()
		}
		if err != nil {
			t.Fatalf("%s: %v", ti.Name, err)
		}
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		ti.Type, ti.Data = gguf.TypeF32, b
	}
	d, err := New(path+" (decoded to f32)", f, DefaultSettings)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// llamaCppDiff is how dfim's logits differ from one llama.cpp run: the
// largest difference and where, and the positions whose top token differs.
type llamaCppDiff struct {
	worst  float64
	at     [2]int // canvas, position
	argmax []struct {
		canvas, pos, mine, want int
		margin                  float64 // llama.cpp's first two apart
	}
}

// ties says at how many positions the top token differs, and llama.cpp's
// largest margin among them.
func (d llamaCppDiff) ties() string {
	if len(d.argmax) == 0 {
		return "the top token agrees everywhere"
	}
	m := 0.0
	for _, x := range d.argmax {
		m = math.Max(m, x.margin)
	}
	return fmt.Sprintf("the top token differs at %d near-ties, llama.cpp's first two at most %.3f apart", len(d.argmax), m)
}

// compareLlamaCpp compares dfim's logits (one slice per canvas, shifted as
// the sampler reads them) with llama.cpp's unshifted rows ref.
func compareLlamaCpp(e llamaCppModel, got [][]float32, ref []float32) llamaCppDiff {
	var d llamaCppDiff
	V, off := e.Vocab, 0
	for c, toks := range e.Canvases {
		for p := range toks {
			// llama.cpp's diffusion CLI reads row p-1 for position p (row 0
			// for position 0) when it shifts.
			r := p
			if e.Shift && p > 0 {
				r = p - 1
			}
			want := ref[(off+r)*V : (off+r+1)*V]
			mine := got[c][p*V : (p+1)*V]
			for v := range want {
				if x := math.Abs(float64(mine[v] - want[v])); x > d.worst {
					d.worst, d.at = x, [2]int{c, p}
				}
			}
			if a, b := argmax32(mine), argmax32(want); a != b {
				d.argmax = append(d.argmax, struct {
					canvas, pos, mine, want int
					margin                  float64
				}{c, p, a, b, margin(want)})
			}
		}
		off += len(toks)
	}
	return d
}

// margin is how far the largest value of x is above the second largest.
func margin(x []float32) float64 {
	a, b := math.Inf(-1), math.Inf(-1)
	for _, v := range x {
		switch f := float64(v); {
		case f > a:
			a, b = f, a
		case f > b:
			b = f
		}
	}
	return a - b
}

// checkLlamaCppWarnings checks that dfim says where a file would mean
// something else in llama.cpp, or not load there, and says nothing about
// the files of its converter.
func checkLlamaCppWarnings(t *testing.T, e llamaCppModel, warnings []string) {
	t.Helper()
	all := strings.Join(warnings, "\n")
	var want []string
	switch {
	case e.Refused != "":
		want = []string{"llama.cpp refuses"}
	case e.Variant == "biases":
		want = []string{"blk.0.attn_output.bias", "blk.0.ffn_gate.bias", "blk.0.ffn_up.bias", "blk.0.ffn_down.bias"}
	case e.Variant == "noshift":
		want = []string{"diffusion.shift_logits"}
	}
	if want == nil && len(warnings) > 0 {
		t.Errorf("warnings for a file in llama.cpp's converter layout: %q", warnings)
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no warning mentions %s; warnings: %q", w, warnings)
		}
	}
}

// checkLlamaCppTypes checks that a file of one type (the float32 master,
// or llama-quantize --pure) holds every matrix in that type, the experts'
// (ffn_*_exps) included: where a tensor's rows are not a whole number of
// the type's blocks, llama-quantize writes it in another type without
// failing, and the file would test that type instead. Vectors and the
// router (ffn_gate_inp) stay f32, as llama-quantize keeps them.
func checkLlamaCppTypes(t *testing.T, e llamaCppModel, f *gguf.File) {
	t.Helper()
	if e.Type != "f32" && !strings.Contains(e.Quantize, "--pure") {
		return // a mix (q4_k_m)
	}
	var wrong []string
	for _, ti := range f.Tensors {
		want := e.Type
		if len(ti.Dims) < 2 || strings.HasSuffix(ti.Name, ".ffn_gate_inp.weight") {
			want = "f32"
		}
		if !strings.EqualFold(ti.Type.String(), want) {
			wrong = append(wrong, fmt.Sprintf("%s is %v, not %s", ti.Name, ti.Type, want))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%s (%s): %s; give write_models.py's model rows that are whole %s blocks", e.File, e.Quantize, strings.Join(wrong, ", "), e.Type)
	}
}

func readLlamaCppLogits(t *testing.T, path string, e llamaCppModel) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range e.Canvases {
		n += len(c)
	}
	if len(raw) != 4*n*e.Vocab {
		t.Fatalf("%s: %d bytes, want %d (%d positions of %d logits)", path, len(raw), 4*n*e.Vocab, n, e.Vocab)
	}
	out := make([]float32, n*e.Vocab)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}
