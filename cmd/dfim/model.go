package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/engine/native/builtin"
	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/tokenizer"
)

func init() {
	register(&command{name: "model info", run: runModelInfo, usage: "[PATH]",
		summary: "print a GGUF model's architecture, sizes, tensor types and tokenizer, and check it\n" +
			"PATH defaults to --model, then to the built-in model; exits 1 when a check fails"})
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
	var f *gguf.File
	var err error
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
		fmt.Fprintf(w, "heads         %d (key/value %d, head dim %d)\n", h.Heads, h.KVHeads, h.HeadDim)
		fmt.Fprintf(w, "context       %d\n", h.Context)
		fmt.Fprintf(w, "vocabulary    %d\n", h.Vocab)
		rope := "normal"
		if h.Neox {
			rope = "neox"
		}
		fmt.Fprintf(w, "rope          %s, base %g; rms eps %g; shifted logits %v\n", rope, h.RopeBase, h.Eps, h.Shift)
	}

	tm, _ := f.String("tokenizer.ggml.model")
	pre, _ := f.String("tokenizer.ggml.pre")
	tok, terr := tokenizer.FromGGUF(f)
	if terr == nil {
		fmt.Fprintf(w, "tokenizer     %s, pre %q, %d tokens; mask %d, pad %d, eos %d, bos %d\n",
			tm, pre, tok.VocabSize(), tok.Mask(), tok.Pad(), tok.EOS(), tok.BOS())
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
