package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrUnsupported is returned by a backend asked for something it cannot do,
// such as filling several holes of one canvas jointly. Callers fall back
// (infill fills the holes one at a time).
var ErrUnsupported = errors.New("engine: unsupported by this backend")

// A Segment is one piece of a canvas: fixed text, or a hole to fill.
type Segment struct {
	Text   string // fixed text; "" for a hole
	Hole   bool
	MaxTok int // hole: the most tokens it may take (pads/EOS trim it)
	// MaxLines, for a hole, is the most lines its text may take (1: the
	// rest of one line); 0 = no limit. A backend may stop generating there
	// (remote engines send a newline stop); infill cuts the text anyway.
	MaxLines int
}

// Algorithm names a denoising order (which masked positions to commit at each step).
type Algorithm string

const (
	// LowConfidence is LLaDA's low-confidence remasking: commit the most
	// confident positions, a fixed number per step.
	LowConfidence Algorithm = "low-confidence"
	// MaskGITPlus is Dream's maskgit_plus: confidence is the top-1 probability.
	MaskGITPlus Algorithm = "maskgit_plus"
	// TopKMargin is Dream's topk_margin: confidence is top-1 minus top-2 probability.
	TopKMargin Algorithm = "topk_margin"
	// Entropy is Dream's entropy order: confidence is the negative entropy.
	Entropy Algorithm = "entropy"
	// Origin is Dream's origin order: positions are committed in random order.
	Origin Algorithm = "origin"
	// Threshold is Fast-dLLM parallel decoding: commit every masked position
	// whose confidence is at least Options.Threshold, at least one per step.
	Threshold Algorithm = "threshold"
)

// Options steer one denoising request. Zero values mean "the backend's default".
type Options struct {
	Steps       int       // denoising steps per block (or for the whole hole)
	Algorithm   Algorithm // order of commits; "" = backend default
	Temperature float32   // 0 = greedy
	TopP        float32   // 0 or 1 = off
	Threshold   float32   // for Threshold: confidence needed to commit
	Block       int       // semi-autoregressive block length in tokens; 0 = whole hole
	Seed        uint64
	Candidates  int // fills per request (different seeds or lengths); 0 = 1
	// ExactLength fixes each hole at MaxTok tokens: pad and EOS may not be
	// sampled (a fixed-length infilling benchmark's setting; the native
	// engine's tests use it for a known slot count). Remote engines ignore it.
	ExactLength bool
	// Experts lists the decoding experts whose log-probabilities a backend
	// adds to its model's, comma-separated (ExpertCopy, ExpertIdent); "" =
	// the backend's default (all it has), "none" = the model alone. Backends
	// without experts ignore it.
	Experts string
}

// Decoding experts a backend may add to its model (Options.Experts).
const (
	// ExpertCopy copies the continuation of the longest match of a slot's
	// neighbours elsewhere in the canvas.
	ExpertCopy = "copy"
	// ExpertIdent favours identifiers the canvas (and its cross-file
	// context) defines where a slot continues a name.
	ExpertIdent = "ident"
)

// Expert reports whether o turns on the named expert.
func (o Options) Expert(name string) bool {
	if o.Experts == "" {
		return true
	}
	for _, e := range strings.Split(o.Experts, ",") {
		if strings.TrimSpace(e) == name {
			return true
		}
	}
	return false
}

// ValidExperts checks an Options.Experts list.
func ValidExperts(list string) error {
	if list == "" || list == "none" {
		return nil
	}
	for _, e := range strings.Split(list, ",") {
		switch strings.TrimSpace(e) {
		case ExpertCopy, ExpertIdent:
		default:
			return fmt.Errorf("unknown decoding expert %q; valid: %s, %s (comma-separated), or none", e, ExpertCopy, ExpertIdent)
		}
	}
	return nil
}

// A StepToken is one position of a hole in an observed step.
type StepToken struct {
	Text       string  // decoded text of the token; "" while masked
	Masked     bool    // not yet committed
	Confidence float32 // probability of the committed (or best) token
}

// HoleState is a hole's current content after a denoising step.
type HoleState struct {
	Text   string // committed text so far, masked positions shown as Mask
	Tokens []StepToken
}

// MaskGlyph is how a still-masked position is shown in HoleState.Text.
const MaskGlyph = "░"

// A Step is reported to Request.Observe after every denoising step.
type Step struct {
	Candidate int // which candidate this step belongs to
	Index     int // 0-based step number
	Holes     []HoleState
}

// A Request is a canvas to fill.
type Request struct {
	Segments []Segment
	Opts     Options
	Observe  func(Step) // optional; called synchronously after every step
	// Sources is text around the canvas that did not fit the model's
	// context (the rest of the document, the whole cross-file context):
	// decoding experts read it, the model does not. Optional.
	Sources []string
}

// A Fill is one candidate's text for every hole, in canvas order.
type Fill struct {
	Holes []string
	// Tokens is the number of non-pad tokens filled in each hole.
	Tokens []int
	// LogProb is the model's log-likelihood of the filled tokens (sum over
	// holes); NaN when the backend cannot say (a remote API without
	// logprobs), which tells infill that Confidence is unknown too, so its
	// gate does not judge the fill. infill ranks by Confidence.
	LogProb float64
	// Confidence is the mean probability of the filled tokens, in [0,1].
	Confidence float64
	// Spans is each hole's text cut at its tokens, with the probability the
	// backend gave each (nil when it cannot say): infill reads it line by
	// line to show only the lines the model is sure of.
	Spans [][]TokenSpan
}

// A TokenSpan is one token of a fill: its text and probability.
type TokenSpan struct {
	Text string
	Prob float32
}

// Result is what a Denoiser returns: one Fill per candidate.
type Result struct {
	Candidates []Fill
	Steps      int           // denoising steps taken (forward passes)
	Tokens     int           // tokens filled over all candidates
	Elapsed    time.Duration // wall time in the backend
}

// A Denoiser fills the holes of a canvas.
type Denoiser interface {
	Infill(ctx context.Context, req Request) (Result, error) // one fill per hole, per candidate
	Close() error
}

// TokenCounter is an optional fast path: a backend that knows its tokenizer
// lets infill size windows in tokens instead of guessing from bytes.
type TokenCounter interface {
	CountTokens(text string) int
}

// ContextSizer is an optional interface: the most tokens a canvas may hold.
type ContextSizer interface {
	ContextLength() int
}

// Describer is an optional interface for status lines and `dfim version`:
// a short description of the backend and model.
type Describer interface {
	Describe() string
}
