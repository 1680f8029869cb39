package lsp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/dfim/dfim/infill"
)

type completionParams struct {
	TextDocument protocol.TextDocumentIdentifier `json:"textDocument"`
	Position     protocol.Position               `json:"position"`
	Context      *struct {
		TriggerKind protocol.CompletionTriggerKind `json:"triggerKind"`
	} `json:"context,omitempty"`
}

// completion answers textDocument/completion: one item per suggestion, each
// with a textEdit over exactly the bytes the suggestion replaces.
func (s *Server) completion(r *request) {
	empty := &protocol.CompletionList{IsIncomplete: true, Items: []protocol.CompletionItem{}}
	var p completionParams
	if err := decode(r.params, &p); err != nil {
		r.respond(nil, err)
		return
	}
	r.uri = p.TextDocument.URI
	snap, set := s.snapshotFor(r.uri)
	if snap == nil {
		r.respond(empty, nil)
		return
	}
	off := snap.mapper.Offset(p.Position)
	invoked := p.Context == nil || p.Context.TriggerKind == protocol.CompletionTriggerKindInvoked
	s.goAsync(r, r.uri, snap.doc.Version, empty, func(ctx context.Context) (any, error) {
		sugg, err := s.complete(ctx, snap, off, set, invoked)
		if err != nil {
			return nil, err
		}
		return completionList(snap, off, sugg, cappedTokens(set, sugg)), nil
	})
}

func completionList(snap *snapshot, pos int, sugg []infill.Suggestion, capped int) *protocol.CompletionList {
	// Incomplete: the next keystroke changes what the model would say, so
	// the client must ask again rather than filter these items.
	list := &protocol.CompletionList{IsIncomplete: true, Items: make([]protocol.CompletionItem, 0, len(sugg))}
	for i, sg := range sugg {
		// The edit covers the word being typed (the identifier that ends
		// at the cursor pos), as gopls's do: clients (Helix, VS Code)
		// filter items by the text from the range's start to the cursor,
		// which an item starting at the cursor never holds.
		start := sg.Start
		if sg.Start <= pos {
			start = min(sg.Start, wordStart(snap.doc.Text, pos))
		}
		text := snap.doc.Text[start:sg.Start] + sg.Text
		rng := snap.mapper.Range(start, sg.End)
		detail := fmt.Sprintf("dfim · %d tokens · %d steps", sg.Tokens, sg.Steps)
		if capped > 0 {
			detail += fmt.Sprintf(" · maxTokens capped to %d", capped)
		}
		list.Items = append(list.Items, protocol.CompletionItem{
			Label:            label(text),
			Kind:             protocol.CompletionItemKindSnippet,
			Detail:           detail,
			Documentation:    &protocol.MarkupContent{Kind: protocol.PlainText, Value: text},
			FilterText:       text,
			SortText:         fmt.Sprintf("%04d", i),
			Preselect:        i == 0,
			InsertTextFormat: protocol.InsertTextFormatPlainText,
			TextEdit:         &protocol.TextEdit{Range: rng, NewText: text},
		})
	}
	return list
}

// wordStart is where the identifier that ends at off begins (off when
// none does): letters, digits and '_', as most languages spell names.
func wordStart(text string, off int) int {
	for off > 0 {
		r, size := utf8.DecodeLastRuneInString(text[:off])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		off -= size
	}
	return off
}

// noOp reports whether a suggestion changes nothing: its text is what it
// replaces (the ")" offered over the ")" after the cursor). Accepting one
// does nothing, so it is never offered.
func noOp(text string, sg infill.Suggestion) bool {
	return sg.Text == text[sg.Start:sg.End]
}

// cappedTokens is the maxTokens a completion was capped to because the
// setting exceeds what the model's context holds; 0 when it was not.
func cappedTokens(set Settings, sugg []infill.Suggestion) int {
	for _, sg := range sugg {
		if set.MaxTokens > 0 && sg.MaxTokens > 0 && sg.MaxTokens < set.MaxTokens {
			return sg.MaxTokens
		}
	}
	return 0
}

// A tokenLimiter says how many tokens one hole may take (*infill.Completer).
type tokenLimiter interface {
	HoleTokenLimit(infill.Options) int
}

// capLogged remembers the maxTokens caps already logged at info, per
// server: once per setting and limit is enough.
var capLogged sync.Map // capKey → struct{}

type capKey struct {
	s          *Server
	set, limit int
}

// label is the first line of a suggestion, shortened for a menu.
func label(text string) string {
	first, rest, multi := strings.Cut(strings.TrimLeft(text, " \t\r\n"), "\n")
	first = strings.TrimRight(first, " \t\r")
	if r := []rune(first); len(r) > 60 {
		first, multi = string(r[:60]), true
	}
	if multi && strings.TrimSpace(rest+first) != "" {
		first += "…"
	}
	if first == "" || first == "…" {
		first = strings.TrimSpace(text)
		if first == "" {
			first = "(whitespace)"
		}
	}
	return first
}

// debouncedCompleter waits out the debounce (ending early when ctx is
// cancelled, as when the user types on), then for the engine.
func (s *Server) debouncedCompleter(ctx context.Context, set Settings, invoked bool) (infill.Filler, error) {
	if d := set.debounce(invoked); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	return s.waitCompleter(ctx)
}

// complete is what completion and inlineCompletion share: wait out the
// debounce, wait for the engine, ask infill, and keep only suggestions whose
// range lies inside the snapshot.
func (s *Server) complete(ctx context.Context, snap *snapshot, pos int, set Settings, invoked bool) ([]infill.Suggestion, error) {
	c, err := s.debouncedCompleter(ctx, set, invoked)
	if err != nil {
		return nil, err
	}
	opts := infill.Options{Steps: set.Steps, MaxTokens: set.MaxTokens, Context: s.contextSource(set), ContextBytes: set.CrossFileContextBytes, ContextTokens: set.CanvasTokens}
	if !invoked {
		opts.MinConfidence = set.MinConfidence // unasked: only what is likely right
		opts.ShowThreshold = set.ShowThreshold
	}
	if set.DenoiseSteps {
		opts.Observe = s.denoiseObserver(snap, pos)
	}
	if tl, ok := c.(tokenLimiter); ok && opts.MaxTokens > 0 {
		if limit := tl.HoleTokenLimit(opts); opts.MaxTokens > limit {
			msg, fields := "maxTokens capped to what the model's context holds", []zap.Field{
				zap.Int("maxTokens", opts.MaxTokens), zap.Int("capped", limit)}
			if _, seen := capLogged.LoadOrStore(capKey{s, opts.MaxTokens, limit}, struct{}{}); !seen {
				s.log.Info(msg, fields...)
			} else {
				s.log.Debug(msg, fields...)
			}
			opts.MaxTokens = limit
		}
	}
	start := time.Now()
	work, stop := ctx, context.CancelFunc(func() {})
	timeout := set.requestTimeout()
	if timeout > 0 {
		// The deadline reaches the engine's steps and infill's checks, so
		// the work stops rather than running on unanswered.
		work, stop = context.WithTimeoutCause(ctx, timeout, errRequestTimeout)
	}
	defer stop()
	sugg, err := c.Complete(work, snap.doc, pos, opts)
	if err != nil {
		if ctx.Err() == nil && context.Cause(work) == errRequestTimeout {
			// Empty, not an error: the editor would show a failure on
			// every keystroke in a document this slow to complete.
			s.log.Info("completion stopped at the request timeout, answered with no suggestions; raise requestTimeoutMs to wait longer",
				zap.String("document", snap.doc.Path), zap.Int("pos", pos), zap.Int("size", len(snap.doc.Text)),
				zap.Duration("timeout", timeout))
			return nil, nil
		}
		return nil, err
	}
	n := len(snap.doc.Text)
	out := sugg[:0:0]
	for _, sg := range sugg {
		if sg.Start < 0 || sg.End > n || sg.Start > sg.End {
			s.log.Warn("suggestion with a range outside the document dropped", zap.String("document", snap.doc.Path),
				zap.Int("start", sg.Start), zap.Int("end", sg.End), zap.Int("size", n))
			continue
		}
		if noOp(snap.doc.Text, sg) {
			continue
		}
		if opts.MaxTokens > 0 && opts.MaxTokens < set.MaxTokens && sg.MaxTokens == 0 {
			sg.MaxTokens = opts.MaxTokens // a Filler that does not say
		}
		out = append(out, sg)
	}
	s.log.Debug("completed", zap.String("document", snap.doc.Path), zap.Int("pos", pos),
		zap.Int("suggestions", len(out)), zap.Duration("took", time.Since(start)))
	return out, nil
}

// DefaultRequestTimeout bounds a completion's work with a local engine
// when requestTimeoutMs is 0.
const DefaultRequestTimeout = 10 * time.Second

// errRequestTimeout is the cause of a completion stopped by its timeout.
var errRequestTimeout = errors.New("dfim: completion stopped at the request timeout (requestTimeoutMs)")

// requestTimeout is how long one completion may work: requestTimeoutMs,
// else DefaultRequestTimeout for the local engines, and for a remote
// engine its own timeoutMs plus DefaultRequestTimeout for the checks
// (none when timeoutMs is 0: the engine's own default bounds the wait).
func (s Settings) requestTimeout() time.Duration {
	switch {
	case s.RequestTimeoutMs > 0:
		return time.Duration(s.RequestTimeoutMs) * time.Millisecond
	case s.Engine == "native" || s.Engine == "copy":
		return DefaultRequestTimeout
	case s.TimeoutMs > 0:
		return time.Duration(s.TimeoutMs)*time.Millisecond + DefaultRequestTimeout
	}
	return 0
}

// denoiseStepParams are the params of the dfim/denoiseStep notification.
type denoiseStepParams struct {
	TextDocument protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	Position     protocol.Position                        `json:"position"`
	Candidate    int                                      `json:"candidate"`
	Step         int                                      `json:"step"`
	// Holes is each hole's text so far, still-masked positions shown as "░".
	Holes []string `json:"holes"`
}

// MethodDenoiseStep streams the canvas while it denoises (opt-in setting denoiseSteps).
const MethodDenoiseStep = "dfim/denoiseStep"

func (s *Server) denoiseObserver(snap *snapshot, pos int) func(infill.Step) {
	id := protocol.VersionedTextDocumentIdentifier{
		TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: snap.uri},
		Version:                snap.doc.Version,
	}
	p := snap.mapper.Position(pos)
	return func(st infill.Step) {
		s.notify(MethodDenoiseStep, &denoiseStepParams{TextDocument: id, Position: p, Candidate: st.Candidate, Step: st.Index, Holes: st.Holes})
	}
}
