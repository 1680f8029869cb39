package lspbench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dfim/dfim/eval"
	"github.com/dfim/dfim/infill/syntax"
)

// SampleName and Sample are the file typed when none is given: Go written
// for this benchmark, so no model has trained on it and it lies outside
// the folders ../shared/eval/RESERVED.md keeps for measuring.
const SampleName = "lru.go"

//go:embed sample_lru.go.txt
var Sample string

// Config says what to type and how.
type Config struct {
	Path       string // the file's path, sent as its URI; its folder is the workspace root
	Text       string // the whole file
	LanguageID string // "" = from Path's extension
	Chars      int    // characters to type (0 or more than the file: the whole file)
	Seed       uint64 // picks where typing starts and draws the pauses
	Pacing     Pacing
	// FinalWait is how long to wait for the answer to the last keystroke,
	// and to each quiet request.
	FinalWait time.Duration
	// Quiet is how many requests to send after the typing, one at a time,
	// each awaited with no keystroke to overtake it: all should succeed,
	// whatever the cancellations before did to the server.
	Quiet int
	// Progress, when set, is called after each keystroke.
	Progress func(done, total int)
}

// A Report is what one typing session measured. Latencies are in ms, from
// the keystroke (just before its didChange was sent) to the answer.
type Report struct {
	File       string  `json:"file"`
	Chars      int     `json:"chars"`
	Keystrokes int     `json:"keystrokes"`
	Seed       uint64  `json:"seed"`
	PaceScale  float64 `json:"pace"`
	TypingSec  float64 `json:"typing_seconds"`
	// Latency covers every request answered before the next keystroke
	// (a suggestion or an empty answer).
	Latency eval.Latency `json:"latency_ms"`
	// SuggestionLatency covers the answers that showed a suggestion.
	SuggestionLatency eval.Latency `json:"suggestion_latency_ms"`
	RequestsSent      int          `json:"requests_sent"`
	RequestsCancelled int          `json:"requests_cancelled"` // the next key came first: $/cancelRequest sent
	// Answered counts replies with a result, empty ones included.
	Answered int `json:"answered"`
	// Errors counts failed requests: error replies (other than
	// cancellations) and requests that failed inside the server, which
	// dfim answers with an empty result and counts in dfim/stats.
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// ServerFailures is the server's own count of requests that failed
	// inside it (part of Errors); -1 when the server does not say.
	ServerFailures int `json:"server_failures"`
	// Quiet requests follow the typing (Config.Quiet). QuietFailed counts
	// those answered with an error, not answered within FinalWait, or
	// failed inside the server; QuietShown those that showed a suggestion.
	QuietSent        int `json:"quiet_sent"`
	QuietFailed      int `json:"quiet_failed"`
	QuietShown       int `json:"quiet_shown"`
	SuggestionsShown int `json:"suggestions_shown"`
	// AcceptedIfTyped counts shown suggestions that the text typed next
	// (the rest of the real file) starts with: a user would have taken them.
	AcceptedIfTyped int     `json:"accepted_if_typed"`
	AcceptRate      float64 `json:"accept_rate"` // accepted / shown
	// AcceptedChars sums, over the suggestions shown, the characters a
	// user accepting each word by word would take before its first wrong
	// one, what they go on to type (the rest of the typed region) being
	// the truth: eval's accepted_chars rule (eval.AcceptedCharCount). A
	// stretch of text that several suggestions offered counts once for
	// each, so per 100 keystrokes it can pass 100.
	AcceptedChars int `json:"accepted_chars"`
	// Per100Keys are shown, accepted-if-typed and accepted characters
	// per 100 keystrokes: what a user feels while typing.
	Per100Keys PerKeystrokes `json:"per_100_keystrokes"`
	// NextEdit is the next-edit pass (RunNES), when one ran.
	NextEdit *NESReport `json:"next_edit,omitempty"`
}

// PerKeystrokes are counts per 100 keystrokes.
type PerKeystrokes struct {
	Shown           float64 `json:"shown"`
	AcceptedIfTyped float64 `json:"accepted_if_typed"`
	AcceptedChars   float64 `json:"accepted_chars"`
}

// countShown counts a suggestion shown while typing: text is what it adds
// at the cursor, next what the user goes on to type (the rest of the
// region), rest the rest of the real file.
func (rep *Report) countShown(text, next, rest string) {
	rep.SuggestionsShown++
	if strings.HasPrefix(rest, strings.TrimRight(text, " \t\n")) {
		rep.AcceptedIfTyped++
	}
	taken, _ := eval.AcceptedCharCount(text, next)
	rep.AcceptedChars += taken
}

// rates fills in the shares and the per-keystroke counts.
func (rep *Report) rates() {
	if rep.SuggestionsShown > 0 {
		rep.AcceptRate = float64(rep.AcceptedIfTyped) / float64(rep.SuggestionsShown)
	}
	if rep.Keystrokes > 0 {
		per := func(n int) float64 { return 100 * float64(n) / float64(rep.Keystrokes) }
		rep.Per100Keys = PerKeystrokes{Shown: per(rep.SuggestionsShown), AcceptedIfTyped: per(rep.AcceptedIfTyped), AcceptedChars: per(rep.AcceptedChars)}
	}
}

// Region picks where typing starts: a line start, drawn by seed, with
// chars characters of the file after it. It returns byte offsets.
func Region(text string, chars int, seed uint64) (start, end int) {
	if chars <= 0 || chars >= utf8.RuneCountInString(text) {
		return 0, len(text)
	}
	var starts []int
	for i := 0; i < len(text); i++ {
		if (i == 0 || text[i-1] == '\n') && utf8.RuneCountInString(text[i:]) >= chars {
			starts = append(starts, i)
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0xbb67ae8584caa73b))
	start = starts[rng.IntN(len(starts))]
	end = start
	for n := 0; n < chars; n++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	return start, end
}

// position is an LSP position with UTF-16 characters (the encoding every
// client supports, and the only one this client offers).
type position struct {
	Line      int `json:"line"`
	Character int `json:"character"`
}

type lspRange struct {
	Start position `json:"start"`
	End   position `json:"end"`
}

// positionAt is the position of byte offset off in text.
func positionAt(text string, off int) position {
	line := strings.Count(text[:off], "\n")
	lineStart := strings.LastIndexByte(text[:off], '\n') + 1
	return position{Line: line, Character: utf16Len(text[lineStart:off])}
}

// offsetAt is the byte offset of p in text, clamped to the text.
func offsetAt(text string, p position) int {
	off := 0
	for l := 0; l < p.Line; l++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	for units := 0; off < len(text) && text[off] != '\n' && units < p.Character; {
		r, size := utf8.DecodeRuneInString(text[off:])
		units += utf16.RuneLen(r)
		off += size
	}
	return off
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// inlineItem is the part of an InlineCompletionItem the benchmark reads.
type inlineItem struct {
	InsertText json.RawMessage `json:"insertText"` // a string, or a StringValue snippet object
	Range      *lspRange       `json:"range"`
}

// pendingRequest is the inline completion waiting for an answer.
type pendingRequest struct {
	id    int64
	ch    <-chan Response
	key   time.Time // when its keystroke happened
	doc   string    // the document when it was sent
	pos   int       // the cursor, a byte offset in doc
	typed int       // bytes of the region typed so far
}

// Run types cfg's file into the server behind c: initialize, open the file
// without the typed region, then type the region key by key, asking for an
// inline completion after each. It leaves the connection open; Shutdown
// ends it.
func Run(ctx context.Context, c *Client, cfg Config) (Report, error) {
	start, end := Region(cfg.Text, cfg.Chars, cfg.Seed)
	region := cfg.Text[start:end]
	keys := Keystrokes(region, cfg.Pacing, cfg.Seed)
	rep := Report{File: cfg.Path, Chars: utf8.RuneCountInString(region), Keystrokes: len(keys), Seed: cfg.Seed, PaceScale: cfg.Pacing.Scale,
		ServerFailures: -1}

	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return rep, fmt.Errorf("file %s: %w", cfg.Path, err)
	}
	uri, root := fileURI(abs), fileURI(filepath.Dir(abs))
	langID := cfg.LanguageID
	if langID == "" {
		langID = languageID(cfg.Path)
	}
	if err := initialize(ctx, c, root, nil); err != nil {
		return rep, err
	}
	doc := cfg.Text[:start] + cfg.Text[end:]
	version := 1
	if err := c.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": langID, "version": version, "text": doc}}); err != nil {
		return rep, err
	}

	var lat, shownLat []float64
	var pending *pendingRequest
	cursor, typed := start, 0
	began := time.Now()
	answer := func(p *pendingRequest, r Response, at time.Time) {
		if r.Error != nil {
			if r.Error.Code == CodeRequestCancelled {
				rep.RequestsCancelled++
				return
			}
			rep.Errors++
			if rep.FirstError == "" {
				rep.FirstError = r.Error.Error()
			}
			return
		}
		rep.Answered++
		ms := float64(at.Sub(p.key).Microseconds()) / 1000
		lat = append(lat, ms)
		text, ok := suggestion(r.Result, p.doc, p.pos)
		if !ok {
			return
		}
		shownLat = append(shownLat, ms)
		rep.countShown(text, cfg.Text[start+p.typed:end], cfg.Text[start+p.typed:])
	}
	for i, k := range keys {
		keyTime := time.Now()
		pos := positionAt(doc, cursor)
		version++
		if err := c.Notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": uri, "version": version},
			"contentChanges": []any{map[string]any{"range": lspRange{pos, pos}, "text": k.Text}},
		}); err != nil {
			return rep, err
		}
		doc = doc[:cursor] + k.Text + doc[cursor:]
		cursor += len(k.Text)
		typed += len(k.Text)
		if pending != nil {
			if err := c.Cancel(pending.id); err != nil {
				return rep, err
			}
			rep.RequestsCancelled++
			pending = nil
		}
		id, ch, err := c.Go("textDocument/inlineCompletion", map[string]any{
			"textDocument": map[string]any{"uri": uri},
			"position":     positionAt(doc, cursor),
			"context":      map[string]any{"triggerKind": 2}, // automatic: the user is typing
		})
		if err != nil {
			return rep, err
		}
		rep.RequestsSent++
		pending = &pendingRequest{id: id, ch: ch, key: keyTime, doc: doc, pos: cursor, typed: typed}
		wait := k.Pause
		if i == len(keys)-1 {
			wait = max(wait, cfg.FinalWait)
		}
		timer := time.NewTimer(time.Until(keyTime.Add(wait)))
	waiting:
		for {
			var answered <-chan Response
			if pending != nil {
				answered = pending.ch
			}
			select {
			case r := <-answered:
				answer(pending, r, time.Now())
				pending = nil
				if i == len(keys)-1 {
					break waiting
				}
			case <-timer.C:
				break waiting
			case <-c.Done():
				timer.Stop()
				return rep, fmt.Errorf("the server closed the connection after %d keystrokes: %v", i+1, c.Err())
			case <-ctx.Done():
				timer.Stop()
				return rep, ctx.Err()
			}
		}
		timer.Stop()
		if cfg.Progress != nil {
			cfg.Progress(i+1, len(keys))
		}
	}
	if pending != nil {
		c.Cancel(pending.id)
		rep.RequestsCancelled++
	}
	rep.TypingSec = time.Since(began).Seconds()
	before, known := serverStats(ctx, c)
	if err := quiet(ctx, c, cfg, uri, doc, cursor, &rep); err != nil {
		return rep, err
	}
	if after, ok := serverStats(ctx, c); ok {
		rep.ServerFailures = int(after.Failed)
		rep.Errors += rep.ServerFailures
		if known {
			rep.QuietFailed += int(after.Failed - before.Failed)
		}
		if rep.FirstError == "" && after.Failed > 0 {
			rep.FirstError = "failed inside the server: " + after.LastFailure
		}
	}
	rep.Latency, rep.SuggestionLatency = latency(lat), latency(shownLat)
	rep.rates()
	return rep, nil
}

// initialize opens the session as an editor does, with the workspace
// root and the settings opts as initializationOptions (nil: none).
func initialize(ctx context.Context, c *Client, root string, opts map[string]any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	params := map[string]any{
		"processId":  os.Getpid(),
		"clientInfo": map[string]any{"name": "dfim bench lsp"},
		"rootUri":    root,
		"capabilities": map[string]any{
			"general":      map[string]any{"positionEncodings": []string{"utf-16"}},
			"textDocument": map[string]any{"inlineCompletion": map[string]any{}, "synchronization": map[string]any{"didSave": false}},
		},
	}
	if opts != nil {
		params["initializationOptions"] = opts
	}
	if _, err := c.Call(ctx, "initialize", params); err != nil {
		return fmt.Errorf("initializing the server: %w", err)
	}
	return c.Notify("initialized", map[string]any{})
}

// fileURI is the file: URI of the absolute path abs.
func fileURI(abs string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// quiet sends cfg.Quiet inline completions at the cursor one after
// another, each awaited.
func quiet(ctx context.Context, c *Client, cfg Config, uri, doc string, cursor int, rep *Report) error {
	wait := cfg.FinalWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	for range cfg.Quiet {
		id, ch, err := c.Go("textDocument/inlineCompletion", map[string]any{
			"textDocument": map[string]any{"uri": uri},
			"position":     positionAt(doc, cursor),
			"context":      map[string]any{"triggerKind": 2},
		})
		if err != nil {
			return err
		}
		rep.QuietSent++
		timer := time.NewTimer(wait)
		select {
		case r := <-ch:
			switch {
			case r.Error != nil:
				rep.QuietFailed++
				rep.Errors++
				if rep.FirstError == "" {
					rep.FirstError = "quiet request: " + r.Error.Error()
				}
			default:
				if _, ok := suggestion(r.Result, doc, cursor); ok {
					rep.QuietShown++
				}
			}
		case <-timer.C:
			c.Cancel(id)
			rep.QuietFailed++
			rep.Errors++
			if rep.FirstError == "" {
				rep.FirstError = fmt.Sprintf("quiet request: no answer in %v", wait)
			}
		case <-c.Done():
			timer.Stop()
			return fmt.Errorf("the server closed the connection during the quiet requests: %v", c.Err())
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		timer.Stop()
	}
	return nil
}

// ServerStats is the part of dfim's dfim/stats answer the benchmark reads.
type ServerStats struct {
	Requests    int64  `json:"requests"`
	Failed      int64  `json:"failed"`
	LastFailure string `json:"lastFailure"`
	Goroutines  int    `json:"goroutines"`
	HeapBytes   uint64 `json:"heapBytes"`
}

// serverStats asks the server for dfim/stats; ok is false when it has no
// such method (another server) or does not answer within 5 s.
func serverStats(ctx context.Context, c *Client) (ServerStats, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var st ServerStats
	res, err := c.Call(ctx, "dfim/stats", nil)
	if err != nil || json.Unmarshal(res, &st) != nil {
		return ServerStats{}, false
	}
	return st, true
}

// suggestion is the text the first non-empty inline completion item adds
// at the cursor (pos in doc): an item whose range starts before the cursor
// retypes the text there, which is not part of what it adds.
func suggestion(result json.RawMessage, doc string, pos int) (string, bool) {
	var items []inlineItem
	var list struct {
		Items []inlineItem `json:"items"`
	}
	trimmed := bytes.TrimSpace(result)
	switch {
	case len(trimmed) == 0 || string(trimmed) == "null":
		return "", false
	case trimmed[0] == '[':
		if json.Unmarshal(trimmed, &items) != nil {
			return "", false
		}
	default:
		if json.Unmarshal(trimmed, &list) != nil {
			return "", false
		}
		items = list.Items
	}
	for _, it := range items {
		var text string
		if json.Unmarshal(it.InsertText, &text) != nil {
			var snippet struct {
				Value string `json:"value"`
			}
			if json.Unmarshal(it.InsertText, &snippet) != nil {
				continue
			}
			text = snippet.Value
		}
		if it.Range != nil {
			if from := offsetAt(doc, it.Range.Start); from < pos {
				text = strings.TrimPrefix(text, doc[from:pos])
			}
		}
		if strings.TrimSpace(text) != "" {
			return text, true
		}
	}
	return "", false
}

// languageID is the LSP languageId an editor sends for the file at path.
func languageID(path string) string {
	if id := syntax.LanguageID(syntax.Detect("", path)); id != "" {
		return id
	}
	return "plaintext"
}

// Shutdown asks the server to shut down and exit, as an editor does on close.
func Shutdown(ctx context.Context, c *Client) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Call(ctx, "shutdown", nil); err != nil {
		return fmt.Errorf("shutting the server down: %w", err)
	}
	return c.Notify("exit", nil)
}

// A Server is an LSP server process spoken to over its stdin and stdout.
type Server struct {
	Client *Client
	cmd    *exec.Cmd
	stdin  io.Closer
	stderr *tailBuffer
}

// StartServer starts exe with args (e.g. the dfim binary and "serve").
func StartServer(ctx context.Context, exe string, args ...string) (*Server, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tail := &tailBuffer{max: 8 << 10}
	cmd.Stderr = tail
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server %s: %w", exe, err)
	}
	return &Server{Client: NewClient(stdout, stdin), cmd: cmd, stdin: stdin, stderr: tail}, nil
}

// Stderr is the last few KiB the server wrote to stderr, for error messages.
func (s *Server) Stderr() string { return s.stderr.String() }

// Close shuts the server down politely, then waits for it, killing it if
// it lingers.
func (s *Server) Close(ctx context.Context) error {
	err := Shutdown(ctx, s.Client)
	s.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case werr := <-done:
		if err == nil && werr != nil {
			err = fmt.Errorf("the server exited with %v", werr)
		}
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
		if err == nil {
			err = errors.New("the server did not exit within 5 s of exit; killed it")
		}
	}
	return err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	// mu guards buf.
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// WriteTable writes rep for people.
func WriteTable(w io.Writer, rep Report) {
	fmt.Fprintf(w, "typed %d characters (%d keystrokes) of %s in %.1f s, seed %d, pace ×%g\n",
		rep.Chars, rep.Keystrokes, rep.File, rep.TypingSec, rep.Seed, rep.PaceScale)
	fmt.Fprintf(w, "%-34s %8s %8s %8s\n", "", "p50 ms", "p95 ms", "max ms")
	fmt.Fprintf(w, "%-34s %8.1f %8.1f %8.1f\n", "keystroke to answer", rep.Latency.P50, rep.Latency.P95, rep.Latency.Max)
	fmt.Fprintf(w, "%-34s %8.1f %8.1f %8.1f\n", "keystroke to shown suggestion", rep.SuggestionLatency.P50, rep.SuggestionLatency.P95, rep.SuggestionLatency.Max)
	fmt.Fprintf(w, "requests sent %d, cancelled %d, answered %d, errors %d", rep.RequestsSent, rep.RequestsCancelled, rep.Answered, rep.Errors)
	if rep.ServerFailures >= 0 {
		fmt.Fprintf(w, " (%d failed inside the server)", rep.ServerFailures)
	}
	fmt.Fprintln(w)
	if rep.QuietSent > 0 {
		fmt.Fprintf(w, "quiet requests after typing %d, failed %d, showed a suggestion %d\n", rep.QuietSent, rep.QuietFailed, rep.QuietShown)
	}
	fmt.Fprintf(w, "suggestions shown %d, accepted if typed %d (%.1f%%), characters accepted word by word %d\n",
		rep.SuggestionsShown, rep.AcceptedIfTyped, 100*rep.AcceptRate, rep.AcceptedChars)
	fmt.Fprintf(w, "per 100 keystrokes: shown %.1f, accepted if typed %.1f, accepted characters %.1f\n",
		rep.Per100Keys.Shown, rep.Per100Keys.AcceptedIfTyped, rep.Per100Keys.AcceptedChars)
	if rep.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", rep.FirstError)
	}
	if rep.NextEdit != nil {
		fmt.Fprintln(w)
		WriteNESTable(w, *rep.NextEdit)
	}
}
