package infill

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill/syntax"
)

// A Completer fills documents with one engine. It is safe for concurrent use.
type Completer struct {
	engine engine.Denoiser
	stats  stats

	// treesMu guards trees: the last tree parsed for each document path,
	// from which the next snapshot of that document reparses incrementally.
	treesMu sync.Mutex
	trees   map[string]*syntax.Tree
}

// maxCachedTrees bounds the per-path tree cache.
const maxCachedTrees = 32

// New returns a Completer over d.
func New(d engine.Denoiser) *Completer {
	return &Completer{engine: d, trees: map[string]*syntax.Tree{}}
}

// Engine returns the denoiser the Completer uses.
func (c *Completer) Engine() engine.Denoiser { return c.engine }

// Close frees the cached syntax trees. The engine is the caller's to close.
func (c *Completer) Close() {
	c.treesMu.Lock()
	defer c.treesMu.Unlock()
	for k, t := range c.trees {
		t.Close()
		delete(c.trees, k)
	}
}

// docState is one document snapshot prepared for a request.
type docState struct {
	path    string
	text    string
	lang    string       // language name, "" when unknown
	tree    *syntax.Tree // nil: no grammar, suggestions pass unvalidated
	indent  indentStyle
	crlf    bool
	observe func(engine.Step)
	checks  checkMemo // verdicts so far (large.go)
	words   wordMemo  // the scope check's names of the document (scope.go)
}

func (d *docState) close() { d.tree.Close() }

// check judges replacing [start, end) of the document with text: tree-sitter
// must find no new error, and the language's own judge must agree
// (LanguageAccepts). Each distinct check is done once, on the part of the
// document the edit touches (large.go).
func (d *docState) check(ctx context.Context, start, end int, text string) (syntax.Check, error) {
	return d.checkOnce(ctx, start, end, text)
}

// prepare detects the document's language and parses it, incrementally
// from the last tree of the same path when there is one.
func (c *Completer) prepare(ctx context.Context, doc Document, text string, cache bool) (*docState, error) {
	d := &docState{path: doc.Path, text: text, lang: syntax.Detect(doc.LanguageID, doc.Path),
		indent: detectIndent(text), crlf: strings.Count(text, "\r\n") > strings.Count(text, "\n")/2}
	if strings.IndexByte(text, 0) >= 0 || !utf8.ValidString(text) {
		return nil, fmt.Errorf("infill: %s is not UTF-8 text (binary file?); dfim fills source code only", doc.Path)
	}
	g := syntax.Lookup(d.lang)
	if g == nil {
		return d, nil
	}
	var err error
	if cache && doc.Path != "" {
		c.treesMu.Lock()
		defer c.treesMu.Unlock()
		if old := c.trees[doc.Path]; old != nil && old.Language() == g {
			d.tree, err = old.Reparse(ctx, text)
		} else {
			d.tree, err = g.Parse(ctx, text)
		}
		if err != nil {
			return nil, err
		}
		keep, err := d.tree.Clone()
		if err != nil {
			return nil, err
		}
		if old := c.trees[doc.Path]; old != nil {
			old.Close()
		} else if len(c.trees) >= maxCachedTrees {
			for k, t := range c.trees { // evict any one
				t.Close()
				delete(c.trees, k)
				break
			}
		}
		c.trees[doc.Path] = keep
		return d, nil
	}
	if d.tree, err = g.Parse(ctx, text); err != nil {
		return nil, err
	}
	return d, nil
}

// Complete returns suggestions for the cursor at byte offset pos of doc,
// best first. Every suggestion is syntax-valid (or unvalidated, for a
// language without a grammar); none is empty. It returns no suggestions
// and no error when no candidate survived.
//
// Every entry point (batch, dfim fill, the LSP, the HTTP APIs) comes
// through here or FillHoles: the model sees "\n" line endings only, and
// suggestions come back in the document's own endings and offsets.
func (c *Completer) Complete(ctx context.Context, doc Document, pos int, opts Options) ([]Suggestion, error) {
	if pos < 0 || pos > len(doc.Text) {
		return nil, fmt.Errorf("infill: position %d is outside %s (%d bytes)", pos, doc.Path, len(doc.Text))
	}
	m := newEOLMap(doc.Text)
	if m.identity() {
		sugs, err := c.complete(ctx, doc, pos, opts)
		return dropNoOps(doc.Text, sugs, opts.Dropped), err
	}
	text, dropped := doc.Text, opts.Dropped
	doc.Text, opts.Observe = m.lf, m.observe(opts.Observe)
	if dropped != nil {
		opts.Dropped = func(why DropReason, s Suggestion) { dropped(why, m.suggestions([]Suggestion{s})[0]) }
	}
	sugs, err := c.complete(ctx, doc, m.toLF(pos), opts)
	return dropNoOps(text, m.suggestions(sugs), dropped), err
}

// dropNoOps drops the suggestions that change nothing: their text is what
// they replace (a ")" over the ")" after the cursor). An editor would
// show them, and accepting one would do nothing.
func dropNoOps(text string, sugs []Suggestion, dropped func(DropReason, Suggestion)) []Suggestion {
	out := sugs[:0]
	for _, s := range sugs {
		if s.Text != text[s.Start:s.End] {
			out = append(out, s)
		} else if dropped != nil {
			dropped(DropNoOp, s)
		}
	}
	return out
}

// complete is Complete on a document with "\n" line endings.
func (c *Completer) complete(ctx context.Context, doc Document, pos int, opts Options) ([]Suggestion, error) {
	start := time.Now()
	d, end, p, err := c.planAt(ctx, doc, pos, opts, true)
	if err != nil {
		return nil, err
	}
	defer d.close()
	c.stats.completions.Add(1)
	d.observe = observer(opts.Observe)
	r := c.newRequest(d, opts, crossFileContext(doc, pos, opts))
	p.maxTok = min(p.maxTok, r.sz.holeLimit())
	sugs, err := r.fillOne(ctx, pos, end, p)
	for i := range sugs {
		sugs[i].Elapsed, sugs[i].MaxTokens = time.Since(start), p.maxTok
	}
	return sugs, err
}

// Preview returns the canvas a completion at pos of doc would send, as
// text: its cross-file context, the prefix window, marker where the hole
// is, and the suffix window, cut to the engine's context as Complete cuts
// them. It fills nothing (`dfim context` prints it).
func (c *Completer) Preview(ctx context.Context, doc Document, pos int, opts Options, marker string) (string, error) {
	if pos >= 0 && pos <= len(doc.Text) { // the model's view: "\n" endings
		m := newEOLMap(doc.Text)
		doc.Text, pos = m.lf, m.toLF(pos)
	}
	d, end, p, err := c.planAt(ctx, doc, pos, opts, false)
	if err != nil {
		return "", err
	}
	defer d.close()
	r := c.newRequest(d, opts, crossFileContext(doc, pos, opts))
	cv := buildCanvas(d.text, pos, end, min(p.maxTok, r.sz.holeLimit()), r.extra, r.sz)
	return cv.Extra + cv.Prefix + marker + cv.Suffix, nil
}

// HoleTokenLimit is the most tokens one hole may take with opts: what
// fits in the engine's context (or opts.ContextTokens) with room left for
// the text around the hole. A larger Options.MaxTokens is capped to it:
// the engine would refuse the canvas ("the canvas needs N tokens").
func (c *Completer) HoleTokenLimit(opts Options) int {
	return newSizer(c.engine, opts).holeLimit()
}

// planAt prepares doc and plans the hole of a cursor at pos: it ends at
// end (past closing brackets it may cover) and is shaped by p.
func (c *Completer) planAt(ctx context.Context, doc Document, pos int, opts Options, cache bool) (d *docState, end int, p plan, err error) {
	if pos < 0 || pos > len(doc.Text) {
		return nil, 0, plan{}, fmt.Errorf("infill: position %d is outside %s (%d bytes)", pos, doc.Path, len(doc.Text))
	}
	if d, err = c.prepare(ctx, doc, doc.Text, cache); err != nil {
		return nil, 0, plan{}, err
	}
	end = coverClosers(d.text, pos)
	var node syntax.Node
	if d.tree != nil {
		node = d.tree.NodeAt(pos)
	}
	return d, end, planSpan(d.text, pos, end, node, opts), nil
}

// engineOptions maps completion options and a plan to a request's options.
func engineOptions(opts Options, p plan) engine.Options {
	return engine.Options{Steps: opts.Steps, Algorithm: opts.Algorithm, Temperature: opts.Temperature, TopP: opts.TopP,
		Threshold: opts.Threshold, Block: p.block, Seed: opts.Seed, Candidates: opts.Candidates, Experts: opts.Experts}
}

// A request is one completion or hole-filling call on one document
// snapshot: what every step of filling, checking and repairing needs.
type request struct {
	c     *Completer
	d     *docState
	opts  Options
	sz    sizer
	extra string // cross-file context (crossFileContext)
	// means is each candidate's mean token probability, by fillKey: the
	// show/hide filter reads it (filter.go).
	means map[string]float64
}

func (c *Completer) newRequest(d *docState, opts Options, extra string) *request {
	return &request{c: c, d: d, opts: opts, sz: newSizer(c.engine, opts), extra: extra}
}

// fillOne fills the hole [start, end) of the request's document; when
// end > start the hole covers closing brackets, and a fill that does not
// fit them is tried as an insertion before them.
func (r *request) fillOne(ctx context.Context, start, end int, p plan) ([]Suggestion, error) {
	c, d, opts := r.c, r.d, r.opts
	cv := buildCanvas(d.text, start, end, p.maxTok, r.extra, r.sz)
	if p.shape == shapeLine {
		cv.MaxLines = 1
	} else if p.maxLines > 0 {
		cv.MaxLines = p.maxLines
	}
	res, err := c.engine.Infill(ctx, engine.Request{Segments: cv.segments(), Opts: engineOptions(opts, p), Observe: d.observe, Sources: cv.Sources})
	if err != nil {
		return nil, fmt.Errorf("infill: filling %s at byte %d: %w", d.path, start, err)
	}
	var out []Suggestion
	seen := map[string]bool{}
	for _, f := range res.Candidates {
		if ctx.Err() != nil { // the request has ended: check no more
			return nil, ctx.Err()
		}
		if len(f.Holes) == 0 {
			continue
		}
		c.stats.candidates.Add(1)
		tokens := 0
		if len(f.Tokens) > 0 {
			tokens = f.Tokens[0]
		}
		raw, conf := f.Holes[0], f.Confidence
		raw = firstLines(raw, p.maxLines)
		if len(f.Spans) > 0 {
			lines := 1 // a line-shaped fill is cut at its first newline
			if p.shape == shapeBlock {
				var cut string
				if cut, lines = sureLines(raw, f.Spans[0], lineConfidence(opts)); cut != raw {
					c.stats.linesCut.Add(1)
					raw = cut
				}
			}
			conf = suggestionConfidence(f.Spans[0], lines, conf)
		}
		s, ok := r.finish(ctx, cv, p, raw)
		drop := func(why DropReason) {
			if opts.Dropped != nil {
				s.Confidence, s.Tokens, s.Steps = conf, tokens, s.Steps+res.Steps
				opts.Dropped(why, s)
			}
		}
		if !ok {
			drop(DropInvalid)
			continue
		}
		if seen[s.Text+fmt.Sprint(s.End)] {
			drop(DropDuplicate)
			continue
		}
		seen[s.Text+fmt.Sprint(s.End)] = true
		if retypesNextLine(s.Text, d.text[s.End:]) {
			c.stats.retyped.Add(1)
			drop(DropRetyped)
			continue
		}
		if CommentOnly(d.lang, s.Text) && d.codeDue(start) {
			c.stats.commentOnly.Add(1)
			drop(DropComment)
			continue
		}
		if conf < opts.MinConfidence && !math.IsNaN(f.LogProb) { // NaN: a backend that cannot say
			c.stats.unsure.Add(1)
			drop(DropGate)
			continue
		}
		s.Confidence, s.Tokens, s.ContextBytes = conf, tokens, len(cv.Extra)
		s.Steps += res.Steps
		r.noteMean(s, f.Confidence)
		out = append(out, s)
	}
	// Best first: confident, then not repaired, then longer.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Confidence != out[j].Confidence {
			return out[i].Confidence > out[j].Confidence
		}
		return !out[i].Repaired && out[j].Repaired
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out = r.gate(out, p) // shape rules and the compile check (filter.go)
	return out, ctx.Err()
}

// finish post-processes and validates one raw fill, cutting it at a line
// end or repairing it when it adds syntax errors. ok is false when
// nothing valid came of it.
func (r *request) finish(ctx context.Context, cv canvas, p plan, raw string) (Suggestion, bool) {
	c, d := r.c, r.d
	ends := []int{cv.End}
	if cv.End > cv.Start {
		ends = append(ends, cv.Start) // keep the closers after all
	}
	var firstText string
	var firstCheck syntax.Check
	var firstEnd int
	for i, end := range ends {
		text, trimmed := postProcess(raw, d.surround(cv.Start, end, p))
		if text == "" {
			if i == 0 {
				c.stats.empty.Add(1)
			}
			continue
		}
		if trimmed && i == 0 {
			c.stats.suffixTrimmed.Add(1)
		}
		if d.tree == nil {
			c.stats.valid.Add(1)
			return Suggestion{Text: text, Start: cv.Start, End: end, Syntax: SyntaxUnvalidated}, true
		}
		chk, err := d.check(ctx, cv.Start, end, text)
		if err != nil {
			return Suggestion{}, false
		}
		if chk.Valid {
			c.stats.valid.Add(1)
			return Suggestion{Text: text, Start: cv.Start, End: end, Syntax: SyntaxValid}, true
		}
		if firstText == "" {
			firstText, firstCheck, firstEnd = text, chk, end
		}
	}
	if firstText == "" {
		return Suggestion{}, false
	}
	c.stats.invalid.Add(1)
	// The span was too long: keep the longest run of whole lines that parses.
	if cut, ok := d.truncate(ctx, cv.Start, firstEnd, firstText); ok {
		c.stats.truncated.Add(1)
		return Suggestion{Text: cut, Start: cv.Start, End: firstEnd, Syntax: SyntaxValid}, true
	}
	if r.repairRounds() == 0 {
		return Suggestion{}, false
	}
	c.stats.repairTried.Add(1)
	if s, ok := r.repair(ctx, cv, p, firstText, firstEnd, firstCheck); ok {
		c.stats.repairRescued.Add(1)
		return s, true
	}
	return Suggestion{}, false
}

// surround is the post-processing context of the hole [start, end).
func (d *docState) surround(start, end int, p plan) surround {
	ls := strings.LastIndexByte(d.text[:start], '\n') + 1
	return surround{linePrefix: d.text[ls:start], suffix: d.text[end:], indent: d.indent,
		singleLine: p.shape == shapeLine, crlf: d.crlf}
}

// truncate returns the longest proper prefix of whole lines of text that
// adds no syntax errors.
func (d *docState) truncate(ctx context.Context, start, end int, text string) (string, bool) {
	for cut := strings.LastIndexByte(text, '\n'); cut > 0; cut = strings.LastIndexByte(text[:cut], '\n') {
		t := strings.TrimRight(text[:cut], " \t\r")
		if strings.TrimSpace(t) == "" {
			break
		}
		if chk, err := d.check(ctx, start, end, t); err == nil && chk.Valid {
			return t, true
		}
	}
	return "", false
}

// DefaultRepairRounds is how many rounds repair takes when
// Options.RepairRounds is 0.
const DefaultRepairRounds = 2

// repairRounds is Options.RepairRounds with its default; 0 means off.
func (r *request) repairRounds() int {
	switch n := r.opts.RepairRounds; {
	case n == 0:
		return DefaultRepairRounds
	case n < 0:
		return 0
	default:
		return n
	}
}

// repair re-masks the part of text (the fill of [cv.Start, end), whose
// check chk found errors) around its first added error and lets the engine
// fill that region again with the rest of the canvas fixed, widening the
// region by a line each round.
func (r *request) repair(ctx context.Context, cv canvas, p plan, text string, end int, chk syntax.Check) (Suggestion, bool) {
	d := r.d
	steps := 0
	for round := 1; round <= r.repairRounds() && len(chk.Added) > 0; round++ {
		good, tail := remaskRegion(text, chk.Added[0].Start-cv.Start, chk.Added[0].End-cv.Start, round)
		bad := text[len(good) : len(text)-len(tail)]
		maxTok := r.sz.count(bad) + 8
		ro := engineOptions(r.opts, plan{block: lineBlock})
		ro.Candidates, ro.Seed = 1, r.opts.Seed+uint64(round)
		res, err := r.c.engine.Infill(ctx, engine.Request{Opts: ro, Sources: cv.Sources, Segments: []engine.Segment{
			{Text: cv.Extra + d.text[cv.PrefixStart:cv.Start] + good},
			{Hole: true, MaxTok: maxTok},
			{Text: tail + d.text[end:cv.SuffixEnd]},
		}})
		if err != nil || len(res.Candidates) == 0 || len(res.Candidates[0].Holes) == 0 {
			return Suggestion{}, false
		}
		steps += res.Steps
		fixed, _ := postProcess(good+res.Candidates[0].Holes[0]+tail, d.surround(cv.Start, end, p))
		if fixed == "" {
			return Suggestion{}, false
		}
		if chk, err = d.check(ctx, cv.Start, end, fixed); err != nil {
			return Suggestion{}, false
		}
		if chk.Valid {
			return Suggestion{Text: fixed, Start: cv.Start, End: end, Syntax: SyntaxValid, Repaired: true, Steps: steps}, true
		}
		text = fixed
	}
	return Suggestion{}, false
}

// remaskRegion splits text around the error [es, ee) (offsets in text;
// outside it when the error lies in the suffix) into the good text before
// the region to re-mask and the tail after it. The region runs from the
// start of the word holding the error (round-1 lines further back) to the
// end of its line; an error past the text re-masks the text's last line.
func remaskRegion(text string, es, ee, round int) (good, tail string) {
	if es < 0 || es >= len(text) {
		es = strings.LastIndexByte(text, '\n') + 1
		es += len(text[es:]) - len(strings.TrimLeft(text[es:], " \t"))
		ee = len(text)
	}
	ee = min(max(ee, es), len(text))
	for es > 0 && !strings.ContainsRune(" \t\n", rune(text[es-1])) {
		es--
	}
	for r := 1; r < round && es > 0; r++ {
		es = strings.LastIndexByte(text[:es-1], '\n') + 1
	}
	if i := strings.IndexByte(text[ee:], '\n'); i >= 0 {
		ee += i
	} else {
		ee = len(text)
	}
	return text[:es], text[ee:]
}

// FillHoles fills every hole of doc and returns one Suggestion per hole,
// in order. The holes go to the engine as one canvas, filled jointly; an
// engine that cannot (engine.ErrUnsupported) fills them one at a time,
// each seeing the fills before it. A hole left without a syntax-valid fill
// gets a Suggestion with empty Text and a Reason. Holes must be in order
// and must not overlap.
//
// Like Complete, it fills a document with "\r\n" or "\r" line endings as
// the same document with "\n" ones, and gives the fills the document's
// own endings.
func (c *Completer) FillHoles(ctx context.Context, doc Document, holes []Hole, opts Options) ([]Suggestion, error) {
	for i, h := range holes {
		if h.Start < 0 || h.End < h.Start || h.End > len(doc.Text) {
			return nil, fmt.Errorf("infill: hole %d (bytes %d-%d) is outside %s (%d bytes)", i, h.Start, h.End, doc.Path, len(doc.Text))
		}
		if i > 0 && h.Start < holes[i-1].End {
			return nil, fmt.Errorf("infill: holes %d and %d of %s overlap or are out of order", i-1, i, doc.Path)
		}
	}
	m := newEOLMap(doc.Text)
	if m.identity() {
		return c.fillHoles(ctx, doc, holes, opts)
	}
	lfHoles := make([]Hole, len(holes))
	for i, h := range holes {
		lfHoles[i] = Hole{Start: m.toLF(h.Start), End: m.toLF(h.End), MaxLines: h.MaxLines}
	}
	doc.Text, opts.Observe = m.lf, m.observe(opts.Observe)
	out, err := c.fillHoles(ctx, doc, lfHoles, opts)
	for i := range out { // the holes' own ranges, exactly as given
		out[i].Text = m.text(out[i].Text)
		out[i].Start, out[i].End = holes[i].Start, holes[i].End
	}
	return out, err
}

// fillHoles is FillHoles on a document with "\n" line endings.
func (c *Completer) fillHoles(ctx context.Context, doc Document, holes []Hole, opts Options) ([]Suggestion, error) {
	start := time.Now()
	if len(holes) == 0 {
		return nil, nil
	}
	c.stats.completions.Add(int64(len(holes)))
	// The document without the holes' text: what fills are compared with.
	var b strings.Builder
	at := make([]int, len(holes)) // hole positions in base
	prev := 0
	for i, h := range holes {
		b.WriteString(doc.Text[prev:h.Start])
		at[i] = b.Len()
		prev = h.End
	}
	b.WriteString(doc.Text[prev:])
	d, err := c.prepare(ctx, doc, b.String(), false)
	if err != nil {
		return nil, err
	}
	defer d.close()
	plans := make([]plan, len(holes))
	limit := newSizer(c.engine, opts).holeLimit()
	for i, h := range holes {
		var node syntax.Node
		if d.tree != nil {
			node = d.tree.NodeAt(at[i])
		}
		plans[i] = planHole(d.text, Hole{Start: at[i], End: at[i], MaxLines: h.MaxLines}, node, opts)
		plans[i].maxTok = min(plans[i].maxTok, limit)
	}
	extra := crossFileContext(doc, holes[0].Start, opts)
	out := make([]Suggestion, len(holes))
	done := make([]bool, len(holes))
	if len(holes) > 1 {
		var err error
		out, done, err = c.newRequest(d, opts, extra).fillJointly(ctx, at, plans)
		if err != nil && !errors.Is(err, engine.ErrUnsupported) {
			return nil, err
		}
	}
	// One at a time: the holes left, each seeing the fills around it.
	for i := range holes {
		if done[i] {
			continue
		}
		text, pos := d.text, at[i]
		shift := 0
		for j := range holes {
			if j != i && done[j] && out[j].Text != "" {
				text = text[:at[j]+shift] + out[j].Text + text[at[j]+shift:]
				if j < i {
					pos += len(out[j].Text)
				}
				shift += len(out[j].Text)
			}
		}
		di := d
		if text != d.text {
			if di, err = c.prepare(ctx, Document{Path: doc.Path, LanguageID: doc.LanguageID}, text, false); err != nil {
				return nil, err
			}
		}
		sugs, err := c.newRequest(di, opts, extra).fillOne(ctx, pos, pos, plans[i])
		if di != d {
			di.close()
		}
		if err != nil {
			return nil, err
		}
		if len(sugs) == 0 {
			out[i].Reason = "no candidate was syntax-valid (and compiled, where checked), even after repair"
		} else {
			out[i] = sugs[0]
		}
		done[i] = true
	}
	for i, h := range holes {
		out[i].Start, out[i].End = h.Start, h.End
		out[i].Elapsed, out[i].MaxTokens = time.Since(start), plans[i].maxTok
	}
	return out, nil
}

// fillJointly sends all holes (at their offsets at in the document
// without them) as one canvas and keeps, for each hole, the first
// candidate's fill that is valid on its own in the document without the
// other holes: out[i] is hole i's fill where done[i]. It returns
// engine.ErrUnsupported, with nothing done, when the engine cannot fill
// several holes at once or the holes are too far apart for one canvas.
func (r *request) fillJointly(ctx context.Context, at []int, plans []plan) (out []Suggestion, done []bool, err error) {
	c, d, opts, sz := r.c, r.d, r.opts, r.sz
	out, done = make([]Suggestion, len(at)), make([]bool, len(at))
	total := 0
	for _, p := range plans {
		total += p.maxTok
	}
	first, last := at[0], at[len(at)-1]
	if sz.count(d.text[first:last])+total > sz.context*3/4 {
		return out, done, engine.ErrUnsupported // too far apart for one canvas
	}
	block := plans[0].block
	cv := buildCanvas(d.text, first, last, total, r.extra, sz)
	segs := []engine.Segment{{Text: cv.Extra + cv.Prefix}}
	for i, p := range plans {
		segs = append(segs, engine.Segment{Hole: true, MaxTok: p.maxTok, MaxLines: p.maxLines})
		if i+1 < len(at) {
			segs = append(segs, engine.Segment{Text: d.text[at[i]:at[i+1]]})
		}
		block = max(block, p.block)
	}
	segs = append(segs, engine.Segment{Text: cv.Suffix})
	res, err := c.engine.Infill(ctx, engine.Request{Segments: segs, Opts: engineOptions(opts, plan{block: block}), Observe: observer(opts.Observe), Sources: cv.Sources})
	if err != nil {
		if errors.Is(err, engine.ErrUnsupported) {
			return out, done, err
		}
		return out, done, fmt.Errorf("infill: filling %d holes of %s: %w", len(at), d.path, err)
	}
	for i := range at {
		for _, f := range res.Candidates {
			if i >= len(f.Holes) {
				continue
			}
			c.stats.candidates.Add(1)
			text, _ := postProcess(firstLines(f.Holes[i], plans[i].maxLines), d.surround(at[i], at[i], plans[i]))
			if text == "" {
				c.stats.empty.Add(1)
				continue
			}
			if !r.keepHole(plans[i], at[i], text) { // shape rules and the compile check (filter.go)
				continue
			}
			status := SyntaxUnvalidated
			if d.tree != nil {
				chk, err := d.check(ctx, at[i], at[i], text)
				if err != nil || !chk.Valid {
					c.stats.invalid.Add(1)
					continue
				}
				status = SyntaxValid
			}
			c.stats.valid.Add(1)
			tokens := 0
			if i < len(f.Tokens) {
				tokens = f.Tokens[i]
			}
			out[i] = Suggestion{Text: text, Confidence: f.Confidence, Steps: res.Steps, Tokens: tokens, Syntax: status, ContextBytes: len(cv.Extra)}
			done[i] = true
			break
		}
	}
	return out, done, nil
}
