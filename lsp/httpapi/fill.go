package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/infill/syntax"
)

// An endpoint is one of the three fill APIs: how its body parses and how
// its answers look.
type endpoint struct {
	path  string
	parse func(body []byte) (*fillRequest, *apiError)
	// whole writes a non-streamed answer; stream writes a streamed one's
	// events after the fill, step one denoising step's event (diffusing).
	whole  func(s *Server, w http.ResponseWriter, req *fillRequest, out *outcome)
	stream func(s *Server, sse *sseWriter, req *fillRequest, out *outcome)
	step   func(s *Server, sse *sseWriter, req *fillRequest, st infill.Step)
	// streamError reports a failure after the stream has started.
	streamError func(sse *sseWriter, e *apiError)
}

// A fillRequest is what any of the three APIs asks for, in one shape.
type fillRequest struct {
	id      string // the answer's id
	created int64

	prompt, suffix string
	extra          []extraChunk // cross-file context (llama.cpp's input_extra)
	maxTokens      int          // 0: planned from the cursor
	zeroTokens     bool         // n_predict 0: nothing to fill (llama.vim warms its cache so)
	stop           []string
	stream         bool
	diffusing      bool // stream every denoising step's full text (Inception's diffusing)
	includeUsage   bool // stream_options.include_usage
	n              int
	temperature    *float32
	topP           *float32
	seed           uint64
	steps          int
	user           string

	// dfim's own fields.
	language, filename string
	minConfidence      *float64
	holes              bool // every <<fill>> marker of prompt and suffix is a hole too

	responseFields []string // llama.cpp's response_fields
}

// An extraChunk is one chunk of cross-file context.
type extraChunk struct {
	Filename string `json:"filename"`
	Text     string `json:"text"`
}

// A choice is one answer to a fill request.
type choice struct {
	text       string
	finish     string // "stop" or "length"
	stopWord   string // the stop string that cut it, if one did
	tokens     int
	confidence float64
	syntax     string
	repaired   bool
	holes      []holeJSON // holes mode: every hole's fill
}

// holeJSON is one hole's fill in holes mode.
type holeJSON struct {
	Offset int    `json:"offset"` // byte offset in prompt+suffix (the cursor: len(prompt))
	Length int    `json:"length"` // bytes of the marker the fill replaces (0 at the cursor)
	Text   string `json:"text"`
	Reason string `json:"reason,omitempty"` // why it is empty
}

// An outcome is a finished fill.
type outcome struct {
	choices          []choice // at least one
	promptTokens     int
	completionTokens int
	steps            int
	fill             time.Duration // on the engine
	latency          time.Duration // since the request came, queueing included
}

// dfimChoice is the "dfim" member of an answer's choice: what only dfim
// says about a fill.
func (c choice) dfim() map[string]any {
	m := map[string]any{"confidence": c.confidence, "tokens": c.tokens}
	if c.syntax != "" {
		m["syntax"] = c.syntax
	}
	if c.repaired {
		m["repaired"] = true
	}
	if c.holes != nil {
		m["holes"] = c.holes
	}
	return m
}

// fill serves one of the fill endpoints.
func (s *Server) fill(ep *endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status := s.serveFill(w, r, ep)
		s.metrics.answered(ep.path, status)
	}
}

// statusClientGone is the status recorded (never sent) when the client
// disconnected first (nginx's 499).
const statusClientGone = 499

func (s *Server) serveFill(w http.ResponseWriter, r *http.Request, ep *endpoint) int {
	start := time.Now()
	fail := func(e *apiError, reason string) int {
		if reason != "" {
			s.metrics.reject(reason)
		}
		writeError(w, e)
		return e.Status
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fail(tooLarge("request_too_large", "the request body is larger than the %d bytes this server takes (--http-max-body)", s.opts.MaxBodyBytes), "body_too_large")
		}
		return fail(invalidf("", "reading the request body: %v", err), "malformed")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return fail(invalidf("", "empty request body: send a JSON object such as {\"prompt\": \"def f(\", \"suffix\": \"):\\n\"}"), "malformed")
	}
	req, aerr := ep.parse(body)
	if aerr != nil {
		return fail(aerr, "malformed")
	}
	req.id, req.created = newID(), start.Unix()
	if strings.ContainsRune(req.prompt, 0) || strings.ContainsRune(req.suffix, 0) {
		return fail(invalidf("prompt", "the prompt or suffix holds a NUL character; dfim fills source code (UTF-8 text)"), "malformed")
	}
	ctx := r.Context()
	c, err := s.completer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return statusClientGone
		}
		return fail(&apiError{Status: http.StatusServiceUnavailable, Type: typeServer, Code: "engine_failed",
			Message: "the engine failed to load: " + err.Error()}, "engine_failed")
	}
	count := tokenCounter(c)
	req.maxTokens = min(req.maxTokens, s.opts.MaxFillTokens)
	canvas := count(req.prompt) + count(req.suffix)
	for _, x := range req.extra {
		canvas += count(x.Filename) + count(x.Text)
	}
	if canvas > s.opts.MaxCanvasTokens {
		return fail(tooLarge("context_length_exceeded", "the prompt, suffix and extra context hold %d tokens, more than the %d this server takes (--http-max-canvas); send less context (the model sees at most its window nearest the cursor)",
			canvas, s.opts.MaxCanvasTokens), "canvas_too_large")
	}
	if req.zeroTokens {
		out := &outcome{choices: []choice{{finish: "length"}}, promptTokens: canvas, latency: time.Since(start)}
		s.answer(w, ep, req, out)
		return http.StatusOK
	}

	release, err := s.queue.acquire(ctx, clientKey(r, req.user))
	if err != nil {
		if errors.Is(err, errQueueFull) {
			w.Header().Set("Retry-After", "1")
			return fail(&apiError{Status: http.StatusTooManyRequests, Type: typeRateLimit, Code: "queue_full",
				Message: fmt.Sprintf("the server is busy: %d requests wait for the engine already (--http-queue); retry in a moment", s.opts.MaxQueue)}, "queue_full")
		}
		return statusClientGone
	}
	defer release()

	var sse *sseWriter
	var observe func(infill.Step)
	var relay *stepRelay
	if req.stream {
		sse = startSSE(w)
		if req.diffusing && ep.step != nil {
			relay = newStepRelay(func(st infill.Step) { ep.step(s, sse, req, st) })
			observe = relay.observe
		}
	}
	fillStart := time.Now()
	out, err := s.run(ctx, c, req, count, observe)
	relay.close()
	if err != nil {
		if ctx.Err() != nil {
			s.log.Debug("client left; fill cancelled", zap.String("endpoint", ep.path), zap.Duration("after", time.Since(start)))
			return statusClientGone
		}
		e, ok := err.(*apiError)
		if !ok {
			e = &apiError{Status: http.StatusInternalServerError, Type: typeServer, Message: err.Error()}
		}
		s.log.Warn("fill failed", zap.String("endpoint", ep.path), zap.Error(err))
		if sse != nil {
			ep.streamError(sse, e)
			return e.Status
		}
		writeError(w, e)
		return e.Status
	}
	out.promptTokens = canvas
	out.fill = time.Since(fillStart)
	out.latency = time.Since(start)
	s.metrics.filled(ep.path, out.latency, out.fill, out.completionTokens)
	if sse != nil {
		ep.stream(s, sse, req, out)
		if sse.err != nil {
			return statusClientGone
		}
		return http.StatusOK
	}
	s.answer(w, ep, req, out)
	return http.StatusOK
}

// answer writes out whole or, for a streamed request, as events.
func (s *Server) answer(w http.ResponseWriter, ep *endpoint, req *fillRequest, out *outcome) {
	if req.stream {
		ep.stream(s, startSSE(w), req, out)
		return
	}
	ep.whole(s, w, req, out)
}

// run fills req with c: the cursor between prompt and suffix, and in
// holes mode every marker too.
func (s *Server) run(ctx context.Context, c infill.Filler, req *fillRequest, count func(string) int, observe func(infill.Step)) (*outcome, error) {
	opts := s.opts.Defaults
	if req.maxTokens > 0 {
		opts.MaxTokens = req.maxTokens
	}
	if req.n > 0 {
		opts.Candidates = req.n
	}
	if req.topP != nil {
		opts.TopP = *req.topP
	}
	if req.temperature != nil {
		opts.Temperature = *req.temperature
	}
	if req.seed != 0 {
		opts.Seed = req.seed
	}
	if req.steps > 0 {
		opts.Steps = req.steps
	}
	if req.minConfidence != nil {
		opts.MinConfidence = *req.minConfidence
	}
	doc := infill.Document{Path: req.filename, LanguageID: req.language, Text: req.prompt + req.suffix}
	opts.ExtraContext = formatExtra(syntax.Detect(req.language, req.filename), req.extra)
	opts.Observe = observe
	pos := len(req.prompt)
	out := &outcome{}
	if req.holes {
		ch, err := s.fillHoles(ctx, c, doc, pos, opts)
		if err != nil {
			return nil, err
		}
		out.choices = []choice{ch}
	} else {
		sugs, err := c.Complete(ctx, doc, pos, opts)
		if err != nil {
			return nil, err
		}
		want := max(req.n, 1)
		for _, sg := range sugs {
			text, ok := insertion(doc.Text, pos, sg)
			if !ok {
				continue
			}
			ch := choice{text: text, finish: "stop", tokens: sg.Tokens, confidence: sg.Confidence,
				syntax: string(sg.Syntax), repaired: sg.Repaired}
			if cut, word := cutStop(text, req.stop); word != "" {
				ch.text, ch.stopWord, ch.tokens = cut, word, count(cut)
			} else if req.maxTokens > 0 && sg.Tokens >= req.maxTokens {
				ch.finish = "length"
			}
			if ch.text == "" {
				continue
			}
			out.steps = max(out.steps, sg.Steps)
			out.choices = append(out.choices, ch)
			if len(out.choices) == want {
				break
			}
		}
	}
	if len(out.choices) == 0 {
		// No fill survived validation or the confidence gate: an empty
		// answer, which every plugin takes as "no suggestion".
		out.choices = []choice{{finish: "stop"}}
	}
	for i := range out.choices {
		if out.choices[i].tokens == 0 && out.choices[i].text != "" {
			out.choices[i].tokens = count(out.choices[i].text)
		}
		out.completionTokens += out.choices[i].tokens
	}
	return out, nil
}

// markers finds dfim batch's hole markers (<<fill>>, <<fill:N>>).
var markers = func() *infill.MarkerSyntax {
	m, err := infill.NewMarkerSyntax(infill.DefaultMarker)
	if err != nil {
		panic(err)
	}
	return m
}()

// fillHoles fills the cursor and every marker of doc jointly (engines
// that cannot fill them one at a time). The choice's text is the
// cursor's fill.
func (s *Server) fillHoles(ctx context.Context, c infill.Filler, doc infill.Document, pos int, opts infill.Options) (choice, error) {
	found := markers.Holes(doc.Text)
	var holes []infill.Hole
	cursor := -1
	for _, h := range found {
		if cursor < 0 && h.Start >= pos {
			cursor = len(holes)
			holes = append(holes, infill.Hole{Start: pos, End: pos})
		}
		if h.Start < pos && h.End > pos {
			return choice{}, invalidf("prompt", "a %s marker spans the end of the prompt and the start of the suffix", infill.DefaultMarker)
		}
		holes = append(holes, h)
	}
	if cursor < 0 {
		cursor = len(holes)
		holes = append(holes, infill.Hole{Start: pos, End: pos})
	}
	sugs, err := c.FillHoles(ctx, doc, holes, opts)
	if err != nil {
		return choice{}, err
	}
	ch := choice{finish: "stop", holes: []holeJSON{}}
	for i, h := range holes {
		hj := holeJSON{Offset: h.Start, Length: h.End - h.Start}
		if i < len(sugs) {
			hj.Text, hj.Reason = sugs[i].Text, sugs[i].Reason
			ch.tokens += sugs[i].Tokens
			if i == cursor {
				ch.confidence, ch.syntax, ch.repaired = sugs[i].Confidence, string(sugs[i].Syntax), sugs[i].Repaired
			}
		}
		if i == cursor {
			ch.text = hj.Text
		}
		ch.holes = append(ch.holes, hj)
	}
	return ch, nil
}

// insertion is a suggestion as text to insert at pos, the suffix kept: a
// suggestion that replaces closing brackets after the cursor keeps them
// (the suffix holds them already). ok is false when it cannot be said as
// an insertion.
func insertion(doc string, pos int, sg infill.Suggestion) (string, bool) {
	if sg.Start != pos || sg.End < sg.Start || sg.End > len(doc) {
		return "", false
	}
	replaced := doc[sg.Start:sg.End]
	if !strings.HasSuffix(sg.Text, replaced) {
		return "", false
	}
	return strings.TrimSuffix(sg.Text, replaced), true
}

// cutStop cuts text before the first stop string it holds, and says which.
func cutStop(text string, stop []string) (string, string) {
	at, word := -1, ""
	for _, st := range stop {
		if st == "" {
			continue
		}
		if i := strings.Index(text, st); i >= 0 && (at < 0 || i < at) {
			at, word = i, st
		}
	}
	if at < 0 {
		return text, ""
	}
	return text[:at], word
}

// formatExtra lays out cross-file chunks as the index does: each chunk
// after a comment line naming its file.
func formatExtra(lang string, chunks []extraChunk) string {
	if len(chunks) == 0 {
		return ""
	}
	open, closing := "// ", ""
	if m := syntax.CommentMarkers(lang); len(m) > 0 {
		open = m[0] + " "
		switch m[0] {
		case "/*":
			closing = " */"
		case "<!--":
			closing = " -->"
		case "(*":
			closing = " *)"
		}
	}
	var b strings.Builder
	for _, x := range chunks {
		if strings.TrimSpace(x.Text) == "" {
			continue
		}
		if x.Filename != "" {
			b.WriteString(open + "Path: " + x.Filename + closing + "\n")
		}
		b.WriteString(x.Text)
		if !strings.HasSuffix(x.Text, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// newID is a fresh answer id: "cmpl-" and 24 hex digits.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "cmpl-" + hex.EncodeToString(b[:])
}

// A stepRelay hands denoising steps from the engine (which must not wait
// on a slow client: it calls Observe holding its lock) to a goroutine that
// writes them, keeping only the newest step when the writer lags.
type stepRelay struct {
	ch   chan infill.Step
	done sync.WaitGroup
}

func newStepRelay(write func(infill.Step)) *stepRelay {
	r := &stepRelay{ch: make(chan infill.Step, 1)}
	r.done.Go(func() {
		for st := range r.ch {
			write(st)
		}
	})
	return r
}

// observe hands st on; infill gives every step slices of its own, so it
// may cross to the writer's goroutine as it is.
func (r *stepRelay) observe(st infill.Step) {
	for {
		select {
		case r.ch <- st:
			return
		default:
		}
		select { // the writer lags: drop the older step
		case <-r.ch:
		default:
		}
	}
}

// close waits for the writer to send what is left. Nil-safe.
func (r *stepRelay) close() {
	if r == nil {
		return
	}
	close(r.ch)
	r.done.Wait()
}

// Flexible JSON fields.

// stringList is a JSON string, list of strings or null.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*l = []string{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return &json.UnmarshalTypeError{Value: jsonValueKind(b), Type: reflect.TypeFor[[]string]()}
	}
	*l = list
	return nil
}

// decode unmarshals body into v, answering what is wrong in a 400.
func decode(body []byte, v any) *apiError {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return invalidf(te.Field, "field %q: want %s, got JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return invalidf("", "the body is not valid JSON (at byte %d: %v)", se.Offset, err)
	}
	return invalidf("", "the body is not the JSON this endpoint takes: %v", err)
}

// jsonValueKind names the kind of the JSON value b, as
// json.UnmarshalTypeError.Value does.
func jsonValueKind(b []byte) string {
	switch t := strings.TrimSpace(string(b)); {
	case t == "":
		return "nothing"
	case t[0] == '{':
		return "object"
	case t[0] == '[':
		return "array"
	case t[0] == '"':
		return "string"
	case t == "true" || t == "false":
		return "bool"
	case t == "null":
		return "null"
	}
	return "number"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "uint64", "int32":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return goKind
}

// checkCommon checks the fields every API shares.
func checkCommon(req *fillRequest, maxTokensField string) *apiError {
	if req.maxTokens < 0 {
		return invalidf(maxTokensField, "%s %d: want a number of tokens from 1 (or leave it out: planned from the cursor)", maxTokensField, req.maxTokens)
	}
	if req.n < 0 || req.n > 8 {
		return invalidf("n", "n %d: want from 1 to 8 completions", req.n)
	}
	if req.topP != nil && (*req.topP < 0 || *req.topP > 1) {
		return invalidf("top_p", "top_p %g: want a number from 0 to 1", *req.topP)
	}
	if req.temperature != nil && (*req.temperature < 0 || *req.temperature > 2) {
		return invalidf("temperature", "temperature %g: want a number from 0 to 2", *req.temperature)
	}
	if req.minConfidence != nil && (*req.minConfidence < 0 || *req.minConfidence > 1) {
		return invalidf("min_confidence", "min_confidence %g: want a probability from 0 to 1", *req.minConfidence)
	}
	if req.steps < 0 || req.steps > 1024 {
		return invalidf("steps", "steps %d: want from 1 to 1024", req.steps)
	}
	if req.diffusing && !req.stream {
		return invalidf("diffusing", "diffusing streams the denoising steps: it needs \"stream\": true")
	}
	if req.holes && req.n > 1 {
		return invalidf("holes", "holes fills every marker once: n must be 1")
	}
	return nil
}
