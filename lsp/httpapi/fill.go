package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
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
	finish     string // "stop" (the fill ended by itself, or at a stop string) or "length" (at the token cap)
	stopWord   string // the stop string that cut it, if one did
	tokens     int    // tokens written: of text
	filled     int    // tokens the engine filled for it (before post-processing cut it, or the gate hid it)
	confidence float64
	syntax     string
	repaired   bool
	gated      bool       // the confidence gate hid the fill
	reason     string     // why text is empty
	duplicate  *int       // the choice whose text this candidate repeats
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
	completionTokens int // tokens written, over all choices
	filledTokens     int // tokens the engine filled for them
	steps            int // denoising steps the engine took, dropped candidates' included
	asked            int // choices asked for (n)
	fewer            string
	fill             time.Duration // on the engine
	latency          time.Duration // since the request came, queueing included
}

// dfimChoice is the "dfim" member of an answer's choice: what only dfim
// says about a fill. tokens are the tokens the engine filled for it, also
// when post-processing cut them or the gate hid the fill (the answer's
// usage counts the tokens written).
func (c choice) dfim() map[string]any {
	m := map[string]any{"confidence": c.confidence, "tokens": max(c.filled, c.tokens)}
	if c.syntax != "" {
		m["syntax"] = c.syntax
	}
	if c.repaired {
		m["repaired"] = true
	}
	if c.gated {
		m["gated"] = true
	}
	if c.reason != "" && c.text == "" {
		m["reason"] = c.reason
	}
	if c.duplicate != nil {
		m["duplicate_of"] = *c.duplicate
	}
	if c.holes != nil {
		m["holes"] = c.holes
	}
	return m
}

// fill serves one of the fill endpoints.
func (s *Server) fill(ep *endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lw, _ := w.(*logWriter)
		if lw == nil { // called without ServeHTTP (tests)
			lw = &logWriter{ResponseWriter: w, start: time.Now()}
		}
		lw.endpoint = ep.path
		status := s.serveFill(lw, r, ep)
		lw.recorded = status
		s.metrics.answered(ep.path, status)
	}
}

// statusClientGone is the status recorded (never sent) when the client
// disconnected first (nginx's 499).
const statusClientGone = 499

// serveFill answers one fill request. What a request costs the server
// comes after what refuses it cheaply: a declared body over the limit is
// refused unread, then the request takes its place in the queue (or is
// refused with 429, unread), and only then is its body read (within
// BodyTimeout), parsed and counted.
func (s *Server) serveFill(w *logWriter, r *http.Request, ep *endpoint) int {
	start := time.Now()
	fail := func(e *apiError, reason string) int {
		if reason != "" {
			s.metrics.reject(reason)
		}
		w.note = e.Message
		writeError(w, e)
		return e.Status
	}
	// A request refused before its body is read closes the connection:
	// the server would otherwise read the body to reuse it.
	unread := func() {
		if r.ContentLength != 0 {
			w.Header().Set("Connection", "close")
		}
	}
	bodyTooLarge := func() int {
		unread()
		return fail(tooLarge("request_too_large", "the request body is larger than the %d bytes this server takes (--http-max-body); send less context",
			s.opts.MaxBodyBytes), "body_too_large")
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		return bodyTooLarge()
	}
	charge := r.ContentLength
	if charge < 0 {
		charge = s.opts.MaxBodyBytes
	}
	if !s.bodies.take(charge) {
		unread()
		w.Header().Set("Retry-After", "1")
		return fail(&apiError{Status: http.StatusTooManyRequests, Type: typeRateLimit, Code: "bodies_full",
			Message: fmt.Sprintf("the server holds %d MiB of request bodies already, the most it takes; retry in a moment, or send less context", s.opts.MaxBodiesBytes>>20)}, "bodies_full")
	}
	defer s.bodies.give(charge)
	client := clientKey(r)
	t, err := s.queue.admit(client)
	if err != nil {
		unread()
		w.Header().Set("Retry-After", "1")
		if errors.Is(err, errClientBusy) {
			return fail(&apiError{Status: http.StatusTooManyRequests, Type: typeRateLimit, Code: "client_busy",
				Message: fmt.Sprintf("you have %d requests waiting for the engine already, the most one client may (--http-client-queue); wait for their answers, or cancel ones you no longer need, before sending more",
					s.opts.MaxClientQueue)}, "client_busy")
		}
		return fail(&apiError{Status: http.StatusTooManyRequests, Type: typeRateLimit, Code: "queue_full",
			Message: fmt.Sprintf("the server is busy: %d requests wait for the engine already (--http-queue); retry in a moment", s.opts.MaxQueue)}, "queue_full")
	}
	defer t.leave() // unless it went on to wait for a slot, which leaves itself

	body, aerr := s.readBody(w, r)
	if aerr != nil {
		unread() // what is left of it must not be read as the next request
		if aerr.Status == http.StatusRequestEntityTooLarge {
			return bodyTooLarge()
		}
		return fail(aerr, "malformed")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fail(invalidf("", "empty request body: send a JSON object such as {\"prompt\": \"def f(\", \"suffix\": \"):\\n\"}"), "malformed")
	}
	req, aerr := ep.parse(body)
	body = nil // the parsed request holds what is needed
	if aerr != nil {
		return fail(aerr, "malformed")
	}
	req.id, req.created = newID(), start.Unix()
	if strings.ContainsRune(req.prompt, 0) || strings.ContainsRune(req.suffix, 0) {
		return fail(invalidf("prompt", "the prompt or suffix holds a NUL character; dfim fills source code (UTF-8 text)"), "malformed")
	}
	if e := s.checkCanvasBytes(req); e != nil {
		return fail(e, "canvas_too_large")
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
		t.leave()
		out := &outcome{choices: []choice{{finish: "length", reason: "max_tokens 0: nothing to fill"}}, promptTokens: canvas, latency: time.Since(start)}
		w.note = out.choices[0].reason
		s.answer(w, ep, req, out)
		return http.StatusOK
	}

	release, err := t.wait(ctx)
	if err != nil {
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
			w.note = "the client left; fill cancelled"
			return statusClientGone
		}
		e, ok := err.(*apiError)
		if !ok {
			e = &apiError{Status: http.StatusInternalServerError, Type: typeServer, Message: err.Error()}
		}
		s.log.Warn("fill failed", zap.String("endpoint", ep.path), zap.Error(err))
		w.note = e.Message
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
	w.tokens = out.completionTokens
	if out.choices[0].text == "" {
		w.note = out.choices[0].reason
	}
	s.metrics.filled(ep.path, out.latency, out.fill, out.filledTokens)
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

// readBody reads r's body, at most MaxBodyBytes, within BodyTimeout (408
// beyond: a slow client must not hold its place in the queue); then the
// connection may stay idle for as long as the fill takes. A body of known
// length is read into a buffer of its size, not grown by doubling.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(s.opts.BodyTimeout))
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	var b []byte
	var err error
	if n := r.ContentLength; n >= 0 {
		b = make([]byte, n)
		_, err = io.ReadFull(body, b)
	} else {
		b, err = io.ReadAll(body)
	}
	if err == nil {
		rc.SetReadDeadline(time.Time{}) // the server's ReadTimeout must not end a long fill
		return b, nil
	}
	var mb *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mb):
		return nil, tooLarge("request_too_large", "body too large")
	case errors.As(err, &ne) && ne.Timeout():
		return nil, &apiError{Status: http.StatusRequestTimeout, Type: typeInvalid, Code: "body_timeout",
			Message: fmt.Sprintf("the request body did not arrive within %s; send it at once after the headers", s.opts.BodyTimeout)}
	}
	return nil, invalidf("", "reading the request body: %v", err)
}

// maxBytesPerToken bounds the bytes of one token on average over a canvas
// (source code averages 3 to 4): a canvas of more bytes than
// MaxCanvasTokens times this is refused before it is tokenized.
const maxBytesPerToken = 32

// checkCanvasBytes refuses a canvas too long in bytes to fit
// MaxCanvasTokens, without counting its tokens.
func (s *Server) checkCanvasBytes(req *fillRequest) *apiError {
	n := len(req.prompt) + len(req.suffix)
	for _, x := range req.extra {
		n += len(x.Filename) + len(x.Text)
	}
	if n > s.opts.MaxCanvasTokens*maxBytesPerToken {
		return tooLarge("context_length_exceeded", "the prompt, suffix and extra context hold %d bytes, far more than the %d tokens this server takes (--http-max-canvas); send less context (the model sees at most its window nearest the cursor)",
			n, s.opts.MaxCanvasTokens)
	}
	return nil
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
	var mu sync.Mutex
	var drops []drop
	opts.Dropped = func(why infill.DropReason, sg infill.Suggestion) {
		mu.Lock()
		drops = append(drops, drop{why, sg})
		mu.Unlock()
	}
	pos := len(req.prompt)
	want := max(req.n, 1)
	out := &outcome{asked: want}
	if req.holes {
		ch, err := s.fillHoles(ctx, c, doc, pos, opts, count)
		if err != nil {
			return nil, err
		}
		out.choices = []choice{ch}
	} else {
		sugs, err := c.Complete(ctx, doc, pos, opts)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		var empty []choice // answered after the filled ones
		for _, sg := range sugs {
			out.steps = max(out.steps, sg.Steps)
			ch := keptChoice(doc.Text, pos, sg, req, count)
			if ch.text == "" {
				empty = append(empty, ch)
				continue
			}
			out.choices = append(out.choices, ch)
		}
		kept := len(out.choices)
		for _, d := range drops {
			out.steps = max(out.steps, d.sg.Steps)
			ch := droppedChoice(d, opts.MinConfidence)
			if d.why == infill.DropDuplicate {
				if i := sameFill(out.choices[:kept], doc.Text, pos, d.sg, req, count); i >= 0 {
					ch = out.choices[i]
					ch.duplicate = &i
					out.choices = append(out.choices, ch)
					continue
				}
			}
			empty = append(empty, ch)
		}
		out.choices = append(out.choices, empty...)
		if len(out.choices) > want {
			out.choices = out.choices[:want]
		}
		if len(out.choices) < want {
			out.fewer = fmt.Sprintf("%d choices asked; %d candidates came back from the engine and infill's checks (a remote engine may give fewer than asked, and infill drops fills that would not compile or break the shape)",
				want, len(out.choices))
		}
	}
	if len(out.choices) == 0 {
		// An empty answer, which every plugin takes as "no suggestion".
		out.choices = []choice{{finish: "stop", reason: "no fill passed infill's checks (syntax, shape, compile check)"}}
	}
	for _, ch := range out.choices {
		out.completionTokens += ch.tokens
		out.filledTokens += max(ch.filled, ch.tokens)
	}
	return out, nil
}

// A drop is a candidate infill dropped, and why.
type drop struct {
	why infill.DropReason
	sg  infill.Suggestion
}

// keptChoice is a suggestion infill kept, as an answer: cut at the first
// stop string, said as an insertion, and finished "length" only when the
// text written reached the token cap.
func keptChoice(doc string, pos int, sg infill.Suggestion, req *fillRequest, count func(string) int) choice {
	ch := choice{finish: "stop", filled: sg.Tokens, confidence: sg.Confidence, syntax: string(sg.Syntax), repaired: sg.Repaired}
	text, ok := insertion(doc, pos, sg)
	if !ok {
		ch.reason = "the fill rewrites text after the cursor, which an insertion cannot say"
		return ch
	}
	if cut, word := cutStop(text, req.stop); word != "" {
		text, ch.stopWord = cut, word
		if text == "" {
			ch.reason = fmt.Sprintf("the stop string %q cut the fill to nothing", word)
		}
	}
	ch.text, ch.tokens = text, count(text)
	// The engine filled up to the cap, and nothing cut the text short
	// (token counts of a text alone and in its canvas may differ by one).
	if ch.stopWord == "" && req.maxTokens > 0 && sg.Tokens >= req.maxTokens && ch.tokens >= req.maxTokens-1 {
		ch.finish = "length"
	}
	return ch
}

// droppedChoice is an empty answer saying why infill dropped the
// candidate, with what the engine spent on it.
func droppedChoice(d drop, minConfidence float64) choice {
	ch := choice{finish: "stop", filled: d.sg.Tokens, confidence: d.sg.Confidence}
	switch d.why {
	case infill.DropGate:
		ch.gated = true
		ch.reason = fmt.Sprintf("the confidence gate hid the fill: its least sure token's probability %.3g is below min_confidence %.3g", d.sg.Confidence, minConfidence)
	case infill.DropInvalid:
		ch.reason = "the engine's fill was empty, or not syntax-valid even after repair"
	case infill.DropRetyped:
		ch.reason = "the fill only retyped the line after the cursor"
	case infill.DropComment:
		ch.reason = "the fill was only a comment where code was due"
	case infill.DropDuplicate:
		ch.reason = "the fill repeats another choice's"
	default:
		ch.reason = "infill dropped the fill (" + string(d.why) + ")"
	}
	return ch
}

// sameFill is the index of the choice among kept whose text a duplicate
// candidate's is, or -1.
func sameFill(kept []choice, doc string, pos int, sg infill.Suggestion, req *fillRequest, count func(string) int) int {
	dup := keptChoice(doc, pos, sg, req, count)
	for i, ch := range kept {
		if ch.text == dup.text {
			return i
		}
	}
	return -1
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
func (s *Server) fillHoles(ctx context.Context, c infill.Filler, doc infill.Document, pos int, opts infill.Options, count func(string) int) (choice, error) {
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
			ch.tokens += count(hj.Text)
			ch.filled += sugs[i].Tokens
			if i == cursor {
				ch.confidence, ch.syntax, ch.repaired = sugs[i].Confidence, string(sugs[i].Syntax), sugs[i].Repaired
			}
		}
		if i == cursor {
			ch.text, ch.reason = hj.Text, hj.Reason
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
// writes them. When the writer lags it keeps only the newest step, but
// never drops the first: a client always sees where the fill started (all
// masked) and where it ended, however loaded the machine.
type stepRelay struct {
	first  chan infill.Step // the first step, never dropped
	ch     chan infill.Step // later steps, the newest kept
	opened atomic.Bool      // the first step was handed on
	done   sync.WaitGroup
}

func newStepRelay(write func(infill.Step)) *stepRelay {
	r := &stepRelay{first: make(chan infill.Step, 1), ch: make(chan infill.Step, 1)}
	r.done.Go(func() {
		if st, ok := <-r.first; ok {
			write(st)
		}
		for st := range r.ch {
			write(st)
		}
	})
	return r
}

// observe hands st on; infill gives every step slices of its own, so it
// may cross to the writer's goroutine as it is.
func (r *stepRelay) observe(st infill.Step) {
	if r.opened.CompareAndSwap(false, true) {
		r.first <- st // room for one: never blocks
		return
	}
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
	if !r.opened.Load() {
		close(r.first)
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
