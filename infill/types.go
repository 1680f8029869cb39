package infill

import (
	"context"
	"time"

	"github.com/dfim/dfim/engine"
)

// A Filler is the infill pipeline as its callers see it (lsp, lsp/httpapi,
// batch): completions at a cursor and the filling of given holes.
// *Completer is the one implementation; tests give doubles.
type Filler interface {
	// Complete returns suggestions for the cursor at byte offset pos of
	// doc, best first; none and no error when no candidate survived.
	Complete(ctx context.Context, doc Document, pos int, opts Options) ([]Suggestion, error)
	// FillHoles returns one Suggestion per hole, in order; an unfilled
	// hole gets empty Text and a Reason.
	FillHoles(ctx context.Context, doc Document, holes []Hole, opts Options) ([]Suggestion, error)
}

// A Document is a snapshot of one file's text, as the editor or disk has it.
type Document struct {
	// Path is the file's path: it names the file in messages, gives the
	// language and the cross-file context. A buffer with no file (an
	// editor's untitled: document) has its URI here, as a name only.
	Path       string
	LanguageID string // LSP languageId; "" = from the extension of Path
	Text       string
	Version    int32
}

// Options steer one completion. Zero values mean defaults.
type Options struct {
	MaxTokens    int    // most tokens one hole may take; 0 = planned from the cursor; capped to Completer.HoleTokenLimit
	Shape        string // "auto" (default), "line" (rest of a line) or "block" (several lines)
	Steps        int
	Algorithm    engine.Algorithm
	Block        int // left-to-right block length in tokens; 0 = planned (4 for a line, 8 for a block)
	Threshold    float32
	Temperature  float32
	TopP         float32 // nucleus sampling with Temperature; 0 or 1 = off
	Seed         uint64
	Candidates   int // candidates to ask the engine for; the best come first
	RepairRounds int // syntax repair rounds; 0 = default (2), -1 = off
	// LineConfidence is what the second and later lines of a block fill
	// need (their tokens' mean probability) to be shown; 0 =
	// DefaultLineConfidence, negative = every line.
	LineConfidence float64
	// MinConfidence is what a suggestion needs (the probability of its
	// least sure token) to be shown at all: no suggestion beats a wrong
	// one. 0 = no gate; editors use DefaultMinConfidence.
	MinConfidence float64
	// Experts is engine.Options.Experts: the decoding experts to use.
	Experts string
	// ContextTokens caps the canvas (prefix, hole and suffix) in tokens;
	// 0 = the request kind's latency budget (budget.go) within the
	// engine's context length (or 2,048 when it does not say); negative =
	// the whole context, so the whole file when it fits.
	ContextTokens int
	// Context gives each completion its cross-file context, placed before
	// the prefix (nil: none); ContextBytes is its budget (0 =
	// DefaultContextBytes, negative = none).
	Context      ContextSource
	ContextBytes int
	// ExtraContext is cross-file context the caller already has (a
	// client's own chunks, as llama.cpp's input_extra), formatted as
	// comments of the document's language; when set, Context is not asked.
	ExtraContext string
	// ShowThreshold turns on the learned show/hide filter (showfilter.go)
	// for suggestions shown unasked: one whose score (0–1, the filter's
	// probability that it is right) is below it is not shown; 0 = off.
	// DefaultShowThreshold is the threshold chosen on dev. It works with
	// MinConfidence, which still applies.
	ShowThreshold float64
	// ReadPackage lets the compile check read the other files of a Go
	// document's directory from disk (fill, batch); an editor leaves it
	// off: it must not read files the user did not open to it.
	ReadPackage bool
	Observe     func(Step) // optional: stream denoising steps
	// Dropped, when set, hears of each candidate Complete drops and why
	// (one of the Drop reasons), with what the engine spent on it (Steps,
	// Tokens, Confidence): for a server that says why a completion came
	// back empty or with fewer suggestions than candidates.
	Dropped func(reason DropReason, s Suggestion)
}

// A DropReason says why Complete dropped a candidate.
type DropReason string

const (
	DropInvalid   DropReason = "invalid"    // empty, or not syntax-valid even after repair
	DropDuplicate DropReason = "duplicate"  // the same fill as a better candidate
	DropRetyped   DropReason = "retyped"    // ends by retyping the line after the hole
	DropComment   DropReason = "comment"    // only a comment where code was due
	DropGate      DropReason = "confidence" // below Options.MinConfidence
	DropNoOp      DropReason = "no-op"      // its text is what it replaces: it changes nothing
)

// A Step is one denoising step of a completion, for a client that shows
// the fill as it forms: each hole's text so far, still-masked positions
// shown as MaskGlyph. Holes is the step's own slice: an observer may keep
// it after returning.
type Step struct {
	Candidate int // which candidate the step belongs to
	Index     int // 0-based step number
	Holes     []string
}

// MaskGlyph is how a still-masked position shows in Step.Holes.
const MaskGlyph = engine.MaskGlyph

// observer adapts an Options.Observe to the engine's steps; nil stays nil.
func observer(f func(Step)) func(engine.Step) {
	if f == nil {
		return nil
	}
	return func(st engine.Step) {
		holes := make([]string, len(st.Holes))
		for i, h := range st.Holes {
			holes[i] = h.Text
		}
		f(Step{Candidate: st.Candidate, Index: st.Index, Holes: holes})
	}
}

// SyntaxStatus says how far a suggestion's syntax was checked.
type SyntaxStatus string

const (
	SyntaxValid       SyntaxStatus = "valid"       // parsed with no new errors
	SyntaxUnvalidated SyntaxStatus = "unvalidated" // no grammar for the language
)

// A Suggestion is one completion worth showing.
type Suggestion struct {
	Text       string // text to insert in place of [Start, End)
	Start, End int    // byte offsets in Document.Text that Text replaces
	Confidence float64
	Steps      int           // denoising steps the engine took (repair rounds included)
	Tokens     int           // tokens filled
	Elapsed    time.Duration // wall time of the whole completion
	// ContextBytes is how much cross-file context its canvas carried.
	ContextBytes int
	Syntax       SyntaxStatus
	Repaired     bool // syntax repair changed it
	// MaxTokens is the hole's token budget it was filled with: the
	// planned or asked Options.MaxTokens, capped to what the engine's
	// context holds (Completer.HoleTokenLimit).
	MaxTokens int
	// Show is the show/hide filter's view of it (its features and
	// score, showfilter.go); nil where the filter did not score it (a
	// hole of FillHoles).
	Show *ShowVerdict
	// Reason says why a hole of FillHoles got no text (Text is then "");
	// "" when it was filled.
	Reason string
}

// A Hole is a span of a document to fill in a multi-hole request: bytes
// [Start, End) are replaced (Start == End inserts).
type Hole struct {
	Start, End int
	MaxLines   int // size hint: at most this many lines; 0 = no hint
}
