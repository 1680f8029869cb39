package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/models/convert"
	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/engine/native/builtin"
	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/tokenizer"
)

func init() {
	register(&command{name: "model info", run: runModelInfo, usage: "[PATH|NAME]",
		summary: "print a GGUF model's architecture, sizes, tensor types and tokenizer, and check it\n" +
			"PATH defaults to --model, then to the built-in model; NAME is a model pulled with dfim model pull;\n" +
			"exits 1 when a check fails"})
	register(&command{name: "model probe", run: runModelProbe, usage: "[--model PATH] (--text T | --tokens 1,2,3) [--top K]",
		summary: "run one forward pass over a canvas and print each position's top logits as JSON\n" +
			"{\"tokens\": [ids], \"positions\": [{\"top\": [{\"id\", \"text\", \"logit\"}, …]}, …]}: the logits the sampler\n" +
			"reads (row i predicts token i, shifted where the model shifts), without dfim's own offsets,\n" +
			"to compare with another runtime. In --text, each <|mask|> (the model's mask token) is a masked slot."})
}

// probeOutput is what `dfim model probe` prints.
type probeOutput struct {
	Tokens    []int32         `json:"tokens"`
	Positions []probePosition `json:"positions"`
}

type probePosition struct {
	Top []probeEntry `json:"top"`
}

type probeEntry struct {
	ID    int32   `json:"id"`
	Text  string  `json:"text"`
	Logit float32 `json:"logit"`
}

func runModelProbe(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	model := fs.String("model", "", "GGUF model file (default: the built-in model)")
	text := fs.String("text", "", "the canvas as text; each <|mask|> is one masked slot (BOS added when the model adds one)")
	tokens := fs.String("tokens", "", "the canvas as comma-separated token ids, used as they are")
	top := fs.Int("top", 5, "entries per position, largest logit first")
	threads := fs.Int("threads", 0, "CPU threads (0: all cores)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; the canvas goes in --text or --tokens", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["text"] == given["tokens"] {
		return usagef("give exactly one of --text and --tokens")
	}
	if *top < 1 {
		return usagef("--top must be at least 1, got %d", *top)
	}
	if *threads < 0 {
		return usagef("--threads must not be negative, got %d", *threads)
	}
	var ids []int32
	if given["tokens"] {
		for _, f := range strings.Split(*tokens, ",") {
			v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil {
				return usagef("--tokens: %q is not a token id; want comma-separated integers such as 1,2,3", f)
			}
			ids = append(ids, int32(v))
		}
	}
	d, err := openNative(*model, *threads)
	if err != nil {
		return err
	}
	defer d.Close()
	if given["text"] {
		ids = d.CanvasTokens(*text)
	}
	logits, err := d.Logits(ids)
	if err != nil {
		return exitError{code: exitFailed, msg: err.Error()}
	}
	out := probeOutput{Tokens: ids, Positions: make([]probePosition, len(ids))}
	V := d.Model().Vocab
	for p := range ids {
		for _, c := range native.TopK(logits[p*V:(p+1)*V], *top) {
			out.Positions[p].Top = append(out.Positions[p].Top, probeEntry{ID: c.ID, Text: d.TokenText(c.ID), Logit: c.Logit})
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false) // "<|mask|>", not "\u003c|mask|\u003e"
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing the probe: %w", err)
	}
	return nil
}

// printWarnings says on stderr where the model file means something else
// in llama.cpp, or would not load there.
func printWarnings(m *native.Model) {
	for _, w := range m.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
}

func runModelInfo(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	model := fs.String("model", "", "GGUF model file (default: the built-in model)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("want at most one PATH, got %d arguments", fs.NArg())
	}
	path := *model
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	path, err := resolveModel(path)
	if err != nil {
		return err
	}
	var f *gguf.File
	if path == "" {
		data, ok := builtin.Model()
		if !ok {
			return exitError{code: exitFailed, msg: native.ErrNoBuiltinModel.Error()}
		}
		path = builtin.Name
		f, err = gguf.Parse(path, data)
	} else {
		f, err = gguf.Open(path)
	}
	if err != nil {
		if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
			return usageError{err.Error()} // a folder or a pipe named as the file
		}
		return exitError{code: exitFailed, msg: err.Error()}
	}
	defer f.Close()
	if failed := modelInfo(os.Stdout, path, f); failed > 0 {
		return exitError{code: exitFailed, msg: fmt.Sprintf("%s: %d check(s) failed", path, failed)}
	}
	return nil
}

// modelInfo prints what the file holds and the result of each check; it
// returns the number of checks that failed.
func modelInfo(w io.Writer, path string, f *gguf.File) (failed int) {
	fmt.Fprintf(w, "file          %s (%.1f MiB, GGUF v%d, %d tensors)\n", path, float64(f.Size)/(1<<20), f.Version, len(f.Tensors))
	if name, ok := f.String("general.name"); ok {
		fmt.Fprintf(w, "name          %s\n", name)
	}
	fmt.Fprintf(w, "architecture  %s\n", f.Arch())
	fmt.Fprintf(w, "family        %s\n", familyLine(f))

	types := map[string]int{}
	var params uint64
	for _, t := range f.Tensors {
		types[t.Type.String()]++
		params += t.Elements()
	}
	fmt.Fprintf(w, "parameters    %s\n", humanCount(params))
	var tl []string
	for t, n := range types {
		tl = append(tl, fmt.Sprintf("%s ×%d", t, n))
	}
	sort.Strings(tl)
	fmt.Fprintf(w, "tensor types  %s\n", strings.Join(tl, ", "))

	check := func(ok bool, what string, err error) {
		if ok {
			fmt.Fprintf(w, "  ok    %s\n", what)
			return
		}
		failed++
		fmt.Fprintf(w, "  FAIL  %s: %v\n", what, err)
	}

	m, merr := native.LoadModel(path, f)
	if merr == nil {
		h := m.Hparams
		fmt.Fprintf(w, "layers        %d\n", h.Layers)
		fmt.Fprintf(w, "embedding     %d (feed-forward %d)\n", h.Embd, h.FFN)
		if h.Experts > 0 {
			fmt.Fprintf(w, "experts       %d, %d used per token, each %d wide\n", h.Experts, h.ExpertsUsed, h.ExpertFFN)
		}
		fmt.Fprintf(w, "heads         %d (key/value %d, head dim %d)\n", h.Heads, h.KVHeads, h.HeadDim)
		fmt.Fprintf(w, "context       %d\n", h.Context)
		fmt.Fprintf(w, "vocabulary    %d\n", h.Vocab)
		rope := "normal"
		if h.Neox {
			rope = "neox"
		}
		fmt.Fprintf(w, "rope          %s, base %g; rms eps %g; shifted logits %v\n", rope, h.RopeBase, h.Eps, h.Shift)
		mib := func(n int64) float64 { return float64(n) / (1 << 20) }
		fmt.Fprintf(w, "memory        about %.1f MiB resident: %.1f MiB of weights on the heap, %.1f MiB read in place from the file, %.1f MiB of keys/values for a full-context canvas\n",
			mib(m.HeapBytes+m.MappedBytes+m.KVBytes), mib(m.HeapBytes), mib(m.MappedBytes), mib(m.KVBytes))
	}

	tm, _ := f.String("tokenizer.ggml.model")
	pre, _ := f.String("tokenizer.ggml.pre")
	tok, terr := tokenizer.FromGGUF(f)
	if terr == nil {
		fmt.Fprintf(w, "tokenizer     %s, pre %q, %d tokens; mask %d, pad %d, eos %d, bos %d\n",
			tm, pre, tok.VocabSize(), tok.Mask(), tok.Pad(), tok.EOS(), tok.BOS())
	}

	if merr == nil {
		for _, warn := range m.Warnings {
			fmt.Fprintf(w, "warning       %s\n", warn)
		}
	}
	fmt.Fprintln(w, "checks")
	check(merr == nil, "every tensor present with the right shape and a type the engine computes with", merr)
	check(terr == nil, "tokenizer loads", terr)
	if terr == nil {
		check(tok.Mask() >= 0, "mask token present", fmt.Errorf("no tokenizer.ggml.mask_token_id; a diffusion model needs one"))
		check(tok.Pad() >= 0 || tok.EOS() >= 0, "pad or EOS token present", fmt.Errorf("neither tokenizer.ggml.padding_token_id nor eos_token_id; holes could not end early"))
		if merr == nil {
			check(tok.VocabSize() <= m.Vocab, "tokenizer fits the embedding table",
				fmt.Errorf("%d tokens but token_embd.weight has %d rows", tok.VocabSize(), m.Vocab))
		}
	}
	return failed
}

// familyLine says which family a file belongs to and how dfim infills
// with it: the family key dfim's converter writes, else the family its
// architecture means (a file from llama.cpp's converter), and the length
// mode (DreamOn's expand/delete tokens, or a fixed-length hole).
func familyLine(f *gguf.File) string {
	fam, ok := f.String(convert.FamilyKey)
	if !ok {
		fam = f.Arch() + " (from the architecture)"
	}
	mode, ok := f.String(convert.LengthModeKey)
	if !ok || mode == "" {
		mode = "fixed"
	}
	format := "prefix + masks + suffix"
	if bos, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok && bos {
		format = "BOS + " + format
	}
	if mode == "expand-delete" {
		format = "BOS + prefix + masks + suffix + EOS" // DreamOn's prompt, as engine/native frames it
	}
	line := fmt.Sprintf("%s; infilling %s, length %s", fam, format, mode)
	if mode == "expand-delete" {
		if e, ok := f.Uint(convert.ExpandTokenKey); ok {
			line += fmt.Sprintf(" (expand %d", e)
			if d, ok := f.Uint(convert.DeleteTokenKey); ok {
				line += fmt.Sprintf(", delete %d", d)
			}
			line += ")"
		}
	}
	return line
}

func humanCount(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// openNative opens the native engine on the GGUF file model (the built-in
// model when ""), for model probe and bench model, printing the file's
// warnings on stderr.
func openNative(model string, threads int) (*native.Denoiser, error) {
	model, err := resolveModel(model)
	if err != nil {
		return nil, err
	}
	if model != "" {
		if err := regularFileArg("--model", model, "a .gguf model file"); err != nil {
			return nil, err
		}
	}
	d, err := native.Open(engine.Config{Model: model, Threads: threads}, native.DefaultSettings)
	if err != nil {
		return nil, exitError{code: exitFailed, msg: err.Error()}
	}
	printWarnings(d.Model())
	return d, nil
}
