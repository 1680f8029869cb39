package native

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/builtin"
	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/kernels"
	"github.com/dfim/dfim/engine/native/sample"
	"github.com/dfim/dfim/engine/native/tokenizer"
)

func init() {
	engine.Register("native", func(cfg engine.Config) (engine.Denoiser, error) {
		return Open(cfg, DefaultSettings)
	})
	// The no-model baseline every quality table stands beside.
	engine.Register("copy", func(cfg engine.Config) (engine.Denoiser, error) {
		s := DefaultSettings
		s.CopyOnly = true
		return Open(cfg, s)
	})
}

// Settings are the native engine's own knobs, beyond engine.Options.
type Settings struct {
	// RefreshEvery is the number of denoising steps between exact forward
	// passes over the canvas (every position but those whose keys came
	// from an earlier request, see PrefixReuse). In between, a step
	// recomputes only hole slots (see WholeHole) and attends to the keys
	// and values the fixed text had at the last exact pass (Fast-dLLM's
	// DualCache approximation). 1 makes every step exact.
	RefreshEvery int
	// WholeHole makes every cached step recompute every slot of every
	// hole; by default a step recomputes the current block's slots (and at
	// a block's first step the block before it), the other slots keeping
	// their keys until the block reaches them (Fast-dLLM's DualCache).
	WholeHole bool
	// PrefixOnly takes only the prefix's keys from an earlier request, not
	// the suffix's, and makes every exact refresh recompute every row (the
	// caches before issue 29, kept for comparison).
	PrefixOnly bool
	// PrefixReuse is how many requests in a row may take the keys and values
	// of the unchanged text before and after the hole from an earlier request
	// (0: never). See prefixKV.
	PrefixReuse int
	// EndBias is added to the logits of the end tokens (pad, EOS) on top of
	// the model's own calibrated offset, the GGUF key EndBiasKey. A
	// negative value makes fills longer. The environment variable
	// DFIM_END_BIAS, when set, replaces the sum (for tuning on dev tasks).
	EndBias float32
	// Copy weights the copy expert (engine.ExpertCopy). The environment
	// variable DFIM_COPY="min,max,weight,perbyte", when set, replaces it
	// (for tuning on dev tasks).
	Copy sample.CopyParams
	// Ident weights the identifier expert (engine.ExpertIdent): the logit
	// offset a continuation gets when every name in scope that continues
	// the slot's word starts with it; 0 = off. DFIM_IDENT replaces it.
	Ident float32
	// Batch is how many concurrent requests may step together, sharing
	// each forward pass (batch.go); 1 or less runs them one at a time,
	// each to its end.
	Batch int
	// CopyOnly runs no model at all: every slot, left to right, takes the
	// copy expert's choice, and a slot without one ends the hole. It is the
	// lookup-table baseline (`--engine copy`) that the model must beat.
	CopyOnly bool
}

// EndBiasKey is the GGUF metadata key with a model's calibrated end-token
// logit offset (train/ measures it on dev rows: how much more often the
// model predicts pad than pad is true).
const EndBiasKey = "dfim.end_logit_bias"

// DefaultSettings is what the "native" engine opens with.
var DefaultSettings = Settings{RefreshEvery: 8, PrefixReuse: 4, Copy: sample.DefaultCopy, Ident: DefaultIdent, Batch: DefaultBatch}

// DefaultBatch is how many requests step together by default.
const DefaultBatch = 8

// DefaultIdent is the identifier expert's weight, tuned on dev tasks.
const DefaultIdent = 3

// ErrNoBuiltinModel is returned when Config.Model is empty and this build
// carries no built-in model.
var ErrNoBuiltinModel = errors.New("this build has no built-in model; pass --model FILE.gguf")

// A Denoiser is the native engine: a model, its tokenizer and the caches of
// the requests it served.
type Denoiser struct {
	name     string // the model file, for messages
	file     *gguf.File
	model    *Model
	tok      *tokenizer.Tokenizer
	settings Settings

	mask, pad, eos, bos int32   // special tokens; -1 = none (bos: none added)
	special             []int32 // tokens a fill may never take
	endBias             float32 // added to the end tokens' logits
	vocab               *vocabIndex
	// spans are the expand and delete tokens of a model whose holes
	// change length (DreamOn, spans.go); nil for a fixed-length one.
	spans *spanTokens
	// rigLogits, when set (by tests), edits an expand-delete step's
	// logits before the sampler reads them: candidate c, step, the
	// canvas, its masked positions and their rows.
	rigLogits func(c, step int, tokens []int32, want []int, rows []float32)

	// mu serializes forward passes and guards the fields below it.
	mu       sync.Mutex
	ws       workspace
	prefixes []*prefixKV // the cache across requests, most recently used first
	spare    []*kvCache  // caches of finished requests, for the next
	closed   bool
	batch    []*denoising // requests being denoised together (batch.go)
	widest   int          // the most requests one round has stepped

	// stepper is held by the goroutine running a round of the batch;
	// joining (guarded by joinMu) are the requests that arrived since the
	// last round, so that joining never waits for a forward pass.
	stepper chan struct{}
	joinMu  sync.Mutex
	joining []*denoising
}

// Open loads the model cfg names (the built-in one when cfg.Model is "");
// cfg.Batch, when set, replaces s.Batch.
func Open(cfg engine.Config, s Settings) (*Denoiser, error) {
	if cfg.Batch > 0 {
		s.Batch = cfg.Batch
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	kernels.SetThreads(threads)
	var f *gguf.File
	var err error
	if cfg.Model == "" {
		data, ok := builtin.Model()
		if !ok {
			return nil, ErrNoBuiltinModel
		}
		f, err = gguf.Parse(builtin.Name, data)
	} else {
		f, err = gguf.Open(cfg.Model)
	}
	if err != nil {
		return nil, err
	}
	name := cfg.Model
	if name == "" {
		name = builtin.Name
	}
	d, err := New(name, f, s)
	if err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// New makes a Denoiser from a parsed GGUF file, which it owns from then on
// (Close closes it).
func New(name string, f *gguf.File, s Settings) (*Denoiser, error) {
	m, err := LoadModel(name, f)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &Denoiser{name: name, file: f, model: m, tok: tok, settings: s,
		mask: tok.Mask(), pad: tok.Pad(), eos: tok.EOS(), bos: -1, stepper: make(chan struct{}, 1)}
	if d.mask < 0 {
		return nil, fmt.Errorf("%s: the tokenizer has no mask token (tokenizer.ggml.mask_token_id); a diffusion model needs one", name)
	}
	if int(d.mask) >= m.Vocab {
		return nil, fmt.Errorf("%s: mask token %d is outside the model's vocabulary of %d", name, d.mask, m.Vocab)
	}
	if d.pad < 0 && d.eos < 0 {
		return nil, fmt.Errorf("%s: the tokenizer has neither a pad nor an EOS token, so a hole could never end early", name)
	}
	if add, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok && add && tok.BOS() >= 0 {
		d.bos = tok.BOS()
	}
	if d.spans, err = loadSpans(name, f, m.Vocab); err != nil {
		return nil, err
	}
	if d.spans != nil && tok.BOS() >= 0 {
		// DreamOn's infilling prompt: BOS, prefix, masks, suffix, EOS
		// (process_infilling_prompt in its README and eval/generator.py).
		d.bos = tok.BOS()
	}
	// Special tokens other than the ends never belong in a fill (BOS,
	// chat markers); the mask is one of them. The span tokens are picks
	// the expand-delete denoiser acts on.
	d.special = []int32{d.mask}
	for id := range min(tok.VocabSize(), m.Vocab) {
		if t := int32(id); tok.IsSpecial(t) && t != d.mask && !d.isEnd(t) && !d.isSpan(t) {
			d.special = append(d.special, t)
		}
	}
	d.vocab = newVocabIndex(d)
	if b, ok := f.Float(EndBiasKey); ok {
		d.endBias = float32(b)
	}
	d.endBias += s.EndBias
	if env := os.Getenv("DFIM_END_BIAS"); env != "" {
		b, err := strconv.ParseFloat(env, 32)
		if err != nil {
			return nil, fmt.Errorf("DFIM_END_BIAS=%q is not a number", env)
		}
		d.endBias = float32(b)
	}
	if env := os.Getenv("DFIM_CACHE"); env != "" {
		// For measuring the caches on dev tasks against what they were.
		for _, w := range strings.Split(env, ",") {
			switch w {
			case "whole-hole":
				d.settings.WholeHole = true
			case "prefix-only":
				d.settings.PrefixOnly = true
			default:
				n, err := strconv.Atoi(strings.TrimPrefix(w, "refresh="))
				if !strings.HasPrefix(w, "refresh=") || err != nil || n < 1 {
					return nil, fmt.Errorf("DFIM_CACHE=%q: unknown %q; want a comma-separated list of whole-hole, prefix-only, refresh=N (steps between exact passes, N ≥ 1)", env, w)
				}
				d.settings.RefreshEvery = n
			}
		}
	}
	if env := os.Getenv("DFIM_IDENT"); env != "" {
		w, err := strconv.ParseFloat(env, 32)
		if err != nil {
			return nil, fmt.Errorf("DFIM_IDENT=%q is not a number", env)
		}
		d.settings.Ident = float32(w)
	}
	if env := os.Getenv("DFIM_COPY"); env != "" {
		var c sample.CopyParams
		if _, err := fmt.Sscanf(env, "%d,%d,%g,%g", &c.MinMatch, &c.MaxMatch, &c.Weight, &c.PerByte); err != nil {
			return nil, fmt.Errorf("DFIM_COPY=%q: want min,max,weight,perbyte (the default is %d,%d,%g,%g): %v", env, sample.DefaultCopy.MinMatch, sample.DefaultCopy.MaxMatch, sample.DefaultCopy.Weight, sample.DefaultCopy.PerByte, err)
		}
		d.settings.Copy = c
	}
	return d, nil
}

func (d *Denoiser) isSpan(t int32) bool {
	return d.spans != nil && (t == d.spans.expand || t == d.spans.delete)
}

// Model returns the loaded transformer (for tools such as `dfim model info`).
func (d *Denoiser) Model() *Model { return d.model }

// Tokenizer returns the model's tokenizer.
func (d *Denoiser) Tokenizer() *tokenizer.Tokenizer { return d.tok }

// CountTokens implements engine.TokenCounter.
func (d *Denoiser) CountTokens(text string) int { return len(d.tok.Encode(text)) }

// ContextLength implements engine.ContextSizer.
func (d *Denoiser) ContextLength() int { return d.model.Context }

// Describe implements engine.Describer.
func (d *Denoiser) Describe() string {
	return fmt.Sprintf("native %s %s (%.1fM parameters, %d layers, d=%d), %d threads, %s",
		d.model.Arch, d.name, float64(d.model.Params)/1e6, d.model.Layers, d.model.Embd, kernels.Threads(), kernels.Features())
}

// Close releases the model file. Infill must not be called after.
func (d *Denoiser) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	d.prefixes = nil
	return d.file.Close()
}
