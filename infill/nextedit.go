package infill

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dfim/dfim/engine"
)

// Next-edit suggestions: after the user changes one place of a document,
// predict the matching change at the places that looked like it before
// (the other uses of a renamed identifier, the other calls of a function
// that gained an argument), re-mask the span that would change there and
// let the engine denoise it, with the substitution the user just made as
// a strong prior.

// An Edit is one change the user made: the bytes [Start, Start+len(Old))
// of the text before it, Old, became New. Offsets are in the text just
// before this edit (an LSP didChange, in order).
type Edit struct {
	Start    int
	Old, New string
}

// A NextEdit is a predicted edit: bytes [Start, End) of the document
// become Text. Confidence is in [0, 1].
type NextEdit struct {
	Start, End int
	Text       string
	Confidence float64
	// Kind says what found the place: "rename" (another use of a renamed
	// identifier), "call" (another call of a function whose arguments
	// changed), "context" (the same text around the changed one),
	// "verbatim" (the old text again), "template" (the old text again
	// with another name in it) or "engine" (the engine's own next-edit
	// model, engine.NextEditor).
	Kind string
	// Source is where Text came from: "copy" (the user's substitution,
	// unchecked or not confirmed), "model+copy" (the engine's fill agreed
	// with it), "model" (the engine's own fill) or "engine" (the engine's
	// next-edit model).
	Source  string
	Elapsed time.Duration
}

// NextEditOptions steer NextEdits. Zero values mean defaults.
type NextEditOptions struct {
	Options // engine settings (Steps, Seed, Algorithm, Experts, ContextTokens)
	// MinConfidence is what a prediction needs to be returned; 0 =
	// DefaultNextEditConfidence, negative = every candidate.
	MinConfidence float64
	// Places is how many candidate places (nearest the cursor first) are
	// checked; 0 = DefaultNextEditPlaces.
	Places int
	// CopyOnly skips the engine: the substitution candidates alone, with
	// their prior confidence (the copy-only baseline of `dfim eval nes`).
	CopyOnly bool
}

// DefaultNextEditConfidence is what a prediction needs to be shown.
const DefaultNextEditConfidence = 0.5

// DefaultNextEditPlaces is how many candidate places a prediction checks.
const DefaultNextEditPlaces = 3

// maxNextEditChecks bounds the syntax checks of one prediction, per
// place it may check.
const maxNextEditChecks = 4

// maxCoalescedEdits bounds how far back the edit history is read.
const maxCoalescedEdits = 64

// An EditPredictor predicts next edits (*Completer). The LSP asks its
// Filler for it, so a double without it answers no edits.
type EditPredictor interface {
	NextEdits(ctx context.Context, doc Document, history []Edit, pos int, opts NextEditOptions) ([]NextEdit, error)
}

// A change is the user's last edit, coalesced from the keystrokes that
// made it and widened to whole words: at byte At of the current text, Old
// (in the text before) became New.
type change struct {
	At       int
	Old, New string
	Before   string // the document before the change
	After    string // and after it
}

// lastChange undoes the newest edits of history on text while each
// touches the region changed so far (the keystrokes of one edit), and
// returns the difference as one change. ok is false when the history is
// empty, does not fit text, or nets to nothing.
func lastChange(text string, history []Edit) (ch change, ok bool) {
	before := text
	rs, re := -1, -1 // the changed region, in before's offsets
	for k, n := len(history)-1, 0; k >= 0 && n < maxCoalescedEdits; k, n = k-1, n+1 {
		e := history[k]
		es, ee := e.Start, e.Start+len(e.New)
		if es < 0 || ee > len(before) || before[es:ee] != e.New {
			break // the history does not fit the text: stop at what does
		}
		if rs >= 0 && (ee < rs || es > re) {
			break // an earlier edit elsewhere: not part of this change
		}
		before = before[:es] + e.Old + before[ee:]
		d := len(e.Old) - len(e.New)
		if rs < 0 {
			rs, re = es, es+len(e.Old)
			continue
		}
		if re >= ee {
			re += d
		} else {
			re = es + len(e.Old)
		}
		rs, re = min(rs, es), max(re, es+len(e.Old))
	}
	if rs < 0 {
		return change{}, false
	}
	p := 0
	for p < len(before) && p < len(text) && before[p] == text[p] {
		p++
	}
	s := 0
	for s < len(before)-p && s < len(text)-p && before[len(before)-1-s] == text[len(text)-1-s] {
		s++
	}
	oldEnd, newEnd := len(before)-s, len(text)-s
	if p == oldEnd && p == newEnd {
		return change{}, false
	}
	// Widen to whole words: "nmae" -> "name", not "ma" -> "am".
	for p > 0 && isWordByte(text[p-1]) && (p < oldEnd && isWordByte(before[p]) || p < newEnd && isWordByte(text[p])) {
		p--
	}
	for s > 0 && isWordByte(text[newEnd]) && (oldEnd > p && isWordByte(before[oldEnd-1]) || newEnd > p && isWordByte(text[newEnd-1])) {
		oldEnd++
		newEnd++
		s--
	}
	return change{At: p, Old: before[p:oldEnd], New: text[p:newEnd], Before: before, After: text}, true
}

// A place is one candidate next edit before it is checked.
type place struct {
	start, end int
	text       string
	prior      float64
	kind       string
}

// Priors of the substitution candidates: how often the same change is
// the right one at a place of each kind, before the engine is asked.
const (
	priorRename        = 0.6  // another use of the renamed identifier
	priorRenameSameOp  = 0.75 // ... after the same byte (".nmae" again)
	priorCall          = 0.65 // another call with the old arguments
	priorContext       = 0.5  // the same text around the changed one
	priorVerbatim      = 0.55 // the old text again, word for word
	priorTemplate      = 0.5  // the old text again with another name in it
	minTemplateFixed   = 6    // non-blank bytes a template must keep fixed
	maxTemplateVars    = 8    // names of the old text tried as the varying one
	contextBytes       = 12   // how much text around the change "context" matches
	minContextPattern  = 6    // a shorter context pattern matches too much
	maxArgsBytes       = 4000 // a call's arguments are looked for this far
	nextEditHoleMargin = 4    // tokens a re-masked span may take past the substitution
)

// places finds the candidate next edits of ch in text, nearest pos first;
// same says text is the document ch was made in (ch.After), not another.
func places(lang, text string, ch change, pos int, same bool) []place {
	if strings.ContainsAny(ch.Old, "\n") || strings.ContainsAny(ch.New, "\n") {
		return nil // multi-line changes: not predicted yet
	}
	editEnd := ch.At + len(ch.New)
	var out []place
	add := func(p place) {
		if same && p.start <= editEnd && p.end >= ch.At {
			return // the user's own edit: never undo or redo it
		}
		if text[p.start:p.end] == p.text {
			return // a no-op
		}
		for i, q := range out {
			if q.start == p.start && q.end == p.end && q.text == p.text {
				if p.prior > q.prior {
					out[i] = p
				}
				return
			}
		}
		out = append(out, p)
	}
	if isIdentifier(ch.Old) && isIdentifier(ch.New) {
		var opBefore byte
		if ch.At > 0 {
			opBefore = ch.After[ch.At-1]
		}
		for _, at := range wordOccurrences(text, ch.Old) {
			prior := priorRename
			if at > 0 && text[at-1] == opBefore && !isWordByte(opBefore) && opBefore != ' ' && opBefore != '\t' {
				prior = priorRenameSameOp
			}
			add(place{start: at, end: at + len(ch.Old), text: ch.New, prior: prior, kind: "rename"})
		}
	}
	for _, p := range callPlaces(lang, text, ch, same) {
		add(p)
	}
	for _, p := range contextPlaces(text, ch) {
		add(p)
	}
	for _, p := range templatePlaces(text, ch, same) {
		add(p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := distance(out[i].start, pos), distance(out[j].start, pos)
		if di != dj {
			return di < dj
		}
		return out[i].prior > out[j].prior
	})
	return out
}

// distance ranks a place by how far it is from the cursor; a place after
// the cursor goes before one as far before it (editing flows down).
func distance(at, pos int) int {
	if at >= pos {
		return 2 * (at - pos)
	}
	return 2*(pos-at) + 1
}

func isIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) && s[i] < 0x80 {
			return false
		}
	}
	return true
}

// wordOccurrences are the offsets of word as a whole word in text.
func wordOccurrences(text, word string) []int {
	var out []int
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return out
		}
		at := i + j
		end := at + len(word)
		if (at == 0 || !isWordByte(text[at-1])) && (end == len(text) || !isWordByte(text[end])) {
			out = append(out, at)
		}
		i = at + 1
	}
}

// contextPlaces are the places where the text around the change (up to
// contextBytes on each side, on the same line) appears with the old text
// between: the same change is proposed there.
func contextPlaces(text string, ch change) []place {
	src := ch.After
	ls := strings.LastIndexByte(src[:ch.At], '\n') + 1
	left := strings.TrimLeft(src[ls:ch.At], " \t")
	if len(left) > contextBytes {
		left = left[len(left)-contextBytes:]
	}
	rest := src[ch.At+len(ch.New):]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	right := strings.TrimRight(rest, " \t\r")
	if len(right) > contextBytes {
		right = right[:contextBytes]
	}
	pattern := left + ch.Old + right
	if len(strings.TrimSpace(pattern)) < minContextPattern || ch.Old == "" && (left == "" || right == "") {
		return nil
	}
	var out []place
	for i := 0; ; {
		j := strings.Index(text[i:], pattern)
		if j < 0 {
			return out
		}
		at := i + j + len(left)
		out = append(out, place{start: at, end: at + len(ch.Old), text: ch.New, prior: priorContext, kind: "context"})
		i += j + 1
	}
}

// templatePlaces are the places where the old text appears again, word
// for word ("verbatim"), or with one name changed ("template": the user's
// f"Unknown color {fg!r}" -> _("Unknown color {c!r}").format(c=fg) gives
// the same change of f"Unknown color {bg!r}", with bg for fg). The name
// that varies must appear in the new text too, which carries it over.
func templatePlaces(text string, ch change, same bool) []place {
	old := ch.Old
	if strings.TrimSpace(old) == "" || isIdentifier(old) {
		return nil // insertions: contextPlaces; renames: places
	}
	var out []place
	editEnd := ch.At + len(ch.New)
	if len(strings.TrimSpace(old)) >= minTemplateFixed+2 {
		for i := 0; ; {
			j := strings.Index(text[i:], old)
			if j < 0 {
				break
			}
			at := i + j
			if (at == 0 || !isWordByte(text[at-1]) || !isWordByte(old[0])) && (at+len(old) == len(text) || !isWordByte(text[at+len(old)]) || !isWordByte(old[len(old)-1])) {
				out = append(out, place{start: at, end: at + len(old), text: ch.New, prior: priorVerbatim, kind: "verbatim"})
			}
			i = at + 1
		}
	}
	tried := map[string]bool{}
	for _, v := range identifiers(old) {
		if tried[v] || len(tried) >= maxTemplateVars || len(wordOccurrences(ch.New, v)) == 0 {
			continue
		}
		tried[v] = true
		occ := wordOccurrences(old, v)
		fixed := len(strings.Join(strings.Fields(old), "")) - len(occ)*len(v)
		if fixed < minTemplateFixed {
			continue
		}
		var pat strings.Builder
		if isWordByte(old[0]) {
			pat.WriteString(`\b`)
		}
		prev := 0
		for _, o := range occ {
			pat.WriteString(regexp.QuoteMeta(old[prev:o]))
			pat.WriteString(`([\pL_][\pL\pN_]*)`)
			prev = o + len(v)
		}
		pat.WriteString(regexp.QuoteMeta(old[prev:]))
		if isWordByte(old[len(old)-1]) {
			pat.WriteString(`\b`)
		}
		re, err := regexp.Compile(pat.String())
		if err != nil {
			continue
		}
		for _, m := range re.FindAllStringSubmatchIndex(text, 64) {
			bound := text[m[2]:m[3]]
			carried := bound != v
			for g := 2; g < len(m); g += 2 {
				carried = carried && text[m[g]:m[g+1]] == bound
			}
			if !carried || same && m[0] < editEnd && m[1] > ch.At {
				continue
			}
			out = append(out, place{start: m[0], end: m[1], text: replaceWord(ch.New, v, bound), prior: priorTemplate, kind: "template"})
		}
	}
	return out
}

// identifiers are the names in text, in order.
func identifiers(text string) []string {
	var out []string
	for i := 0; i < len(text); {
		if !isWordByte(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isWordByte(text[j]) {
			j++
		}
		if w := text[i:j]; isIdentifier(w) {
			out = append(out, w)
		}
		i = j
	}
	return out
}

// replaceWord replaces every whole-word old in text with new.
func replaceWord(text, old, new string) string {
	occ := wordOccurrences(text, old)
	for k := len(occ) - 1; k >= 0; k-- {
		text = text[:occ[k]] + new + text[occ[k]+len(old):]
	}
	return text
}

// An argList is the arguments of one call: the offsets just inside its
// parentheses and each argument's trimmed span.
type argList struct {
	open, close int // text[open] == '(' and text[close] == ')'
	args        [][2]int
}

// parseArgs reads the argument list whose "(" is at open: top-level
// commas split it; brackets and quotes nest. ok is false when no ")"
// closes it within maxArgsBytes.
func parseArgs(text string, open int) (argList, bool) {
	a := argList{open: open}
	depth, start := 0, open+1
	var quote byte
	for i := open + 1; i < len(text) && i < open+maxArgsBytes; i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ')' && depth > 0:
			depth--
		case c == ')' || c == ',' && depth == 0:
			if s, e := trimSpan(text, start, i); s < e || c == ',' || len(a.args) > 0 {
				a.args = append(a.args, [2]int{s, e})
			}
			if c == ')' {
				a.close = i
				return a, true
			}
			start = i + 1
		}
	}
	return a, false
}

// trimSpan is [s, e) of text without its surrounding white space.
func trimSpan(text string, s, e int) (int, int) {
	for s < e && strings.IndexByte(" \t\r\n", text[s]) >= 0 {
		s++
	}
	for e > s && strings.IndexByte(" \t\r\n", text[e-1]) >= 0 {
		e--
	}
	return s, e
}

func (a argList) texts(text string) []string {
	out := make([]string, len(a.args))
	for i, s := range a.args {
		out[i] = text[s[0]:s[1]]
	}
	return out
}

// callOpen is the "(" of the innermost call whose argument list holds
// offset at in text (on at's line), and the called name; ok is false when
// at is in no call.
func callOpen(text string, at int) (open int, name string, ok bool) {
	ls := strings.LastIndexByte(text[:at], '\n') + 1
	depth := 0
	for i := at - 1; i >= ls; i-- {
		switch text[i] {
		case ')':
			depth++
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			e := i
			s := e
			for s > ls && isWordByte(text[s-1]) {
				s--
			}
			if s == e {
				return 0, "", false
			}
			return i, text[s:e], true
		}
	}
	return 0, "", false
}

// callPlaces are the other calls of the function whose argument list the
// change edited, with the old arguments: the same argument is added,
// dropped or changed there.
func callPlaces(lang, text string, ch change, same bool) []place {
	open, name, ok := callOpen(ch.After, ch.At)
	if !ok {
		return nil
	}
	oldArgs, ok1 := parseArgs(ch.Before, open)
	newArgs, ok2 := parseArgs(ch.After, open)
	if !ok1 || !ok2 || ch.At+len(ch.New) > newArgs.close {
		return nil
	}
	before, after := oldArgs.texts(ch.Before), newArgs.texts(ch.After)
	op, idx, arg := argDiff(before, after)
	if op == "" {
		return nil
	}
	var out []place
	for _, at := range wordOccurrences(text, name) {
		o := at + len(name)
		if o >= len(text) || text[o] != '(' || same && o == open || isDeclaration(lang, text, at) {
			continue
		}
		a, ok := parseArgs(text, o)
		if !ok {
			continue
		}
		if p, ok := applyArgDiff(text, a, op, idx, arg, before); ok {
			p.prior, p.kind = priorCall, "call"
			out = append(out, p)
		}
	}
	return out
}

// argDiff says how the arguments changed: one inserted ("insert", its
// index and text), one removed ("remove") or one changed ("change", its
// index and new text); "" for anything else.
func argDiff(before, after []string) (op string, idx int, arg string) {
	switch {
	case len(after) == len(before)+1:
		for i := range after {
			if equalArgs(before, append(append([]string(nil), after[:i]...), after[i+1:]...)) {
				return "insert", i, after[i]
			}
		}
	case len(after)+1 == len(before):
		for i := range before {
			if equalArgs(after, append(append([]string(nil), before[:i]...), before[i+1:]...)) {
				return "remove", i, ""
			}
		}
	case len(after) == len(before):
		diff := -1
		for i := range after {
			if after[i] != before[i] {
				if diff >= 0 {
					return "", 0, ""
				}
				diff = i
			}
		}
		if diff >= 0 && after[diff] != "" {
			return "change", diff, after[diff]
		}
	}
	return "", 0, ""
}

func equalArgs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// applyArgDiff is the minimal edit that changes call a's arguments as the
// user changed theirs; ok is false when a does not have the old arity (or,
// for a change, the old argument).
func applyArgDiff(text string, a argList, op string, idx int, arg string, before []string) (place, bool) {
	n := len(a.args)
	switch op {
	case "insert":
		if n != len(before) {
			return place{}, false
		}
		switch {
		case n == 0:
			return place{start: a.open + 1, end: a.close, text: arg}, true
		case idx == n:
			e := a.args[n-1][1]
			return place{start: e, end: e, text: ", " + arg}, true
		default:
			s := a.args[idx][0]
			return place{start: s, end: s, text: arg + ", "}, true
		}
	case "remove":
		if n != len(before) || idx >= n {
			return place{}, false
		}
		switch {
		case n == 1:
			return place{start: a.open + 1, end: a.close}, true
		case idx == n-1:
			return place{start: a.args[idx-1][1], end: a.args[idx][1]}, true
		default:
			return place{start: a.args[idx][0], end: a.args[idx+1][0]}, true
		}
	case "change":
		if n != len(before) || text[a.args[idx][0]:a.args[idx][1]] != before[idx] {
			return place{}, false
		}
		return place{start: a.args[idx][0], end: a.args[idx][1], text: arg}, true
	}
	return place{}, false
}

// isDeclaration reports whether the name at offset at is being declared
// (Go's func, Python's def): its parameters are not a call's arguments.
func isDeclaration(lang, text string, at int) bool {
	ls := strings.LastIndexByte(text[:at], '\n') + 1
	head := strings.TrimSpace(text[ls:at])
	switch lang {
	case "go":
		return head == "func" || strings.HasPrefix(head, "func (") && strings.HasSuffix(head, ")")
	case "python":
		return head == "def" || head == "async def"
	}
	return strings.HasSuffix(head, "func") || strings.HasSuffix(head, "def") || strings.HasSuffix(head, "function")
}

// NextEdits predicts the edits that follow the user's last edit (the
// newest entries of history, coalesced) in doc, whose cursor is at byte
// pos: the best first by distance from the cursor, each syntax-valid and
// at least opts.MinConfidence sure. None and no error when there is no
// history or nothing to predict. An edit that undoes or redoes the user's
// change, or changes nothing, is never returned.
func (c *Completer) NextEdits(ctx context.Context, doc Document, history []Edit, pos int, opts NextEditOptions) ([]NextEdit, error) {
	start := time.Now()
	if pos < 0 || pos > len(doc.Text) {
		return nil, fmt.Errorf("infill: position %d is outside %s (%d bytes)", pos, doc.Path, len(doc.Text))
	}
	ch, ok := lastChange(doc.Text, history)
	if !ok {
		return nil, nil
	}
	if ne, ok := c.engine.(engine.NextEditor); ok && !opts.CopyOnly {
		return c.engineNextEdits(ctx, ne, doc, history, ch, pos, start) // the engine's own next-edit model
	}
	return c.predict(ctx, doc, ch, pos, true, opts, start)
}

// An OpenFilesPredictor predicts the next edits the user's last edit of
// one document calls for in another (*Completer): the other files the
// user has open, once the edited one has nothing left.
type OpenFilesPredictor interface {
	NextEditsIn(ctx context.Context, other, edited Document, history []Edit, opts NextEditOptions) ([]NextEdit, error)
}

// NextEditsIn predicts the edits that the user's last edit of edited
// (history, as for NextEdits) calls for in the document other, from its
// top; the same gates apply.
func (c *Completer) NextEditsIn(ctx context.Context, other, edited Document, history []Edit, opts NextEditOptions) ([]NextEdit, error) {
	start := time.Now()
	ch, ok := lastChange(edited.Text, history)
	if !ok {
		return nil, nil
	}
	return c.predict(ctx, other, ch, 0, false, opts, start)
}

// predict checks the candidate places of ch in doc (the edited document
// when same) and returns those that pass, nearest pos first.
func (c *Completer) predict(ctx context.Context, doc Document, ch change, pos int, same bool, opts NextEditOptions, start time.Time) ([]NextEdit, error) {
	// The tree cache of completions: the document was most likely parsed
	// a keystroke ago, and reparses incrementally.
	d, err := c.prepare(ctx, doc, doc.Text, true)
	if err != nil {
		return nil, err
	}
	defer d.close()
	cands := places(d.lang, doc.Text, ch, pos, same)
	limit := opts.Places
	if limit <= 0 {
		limit = DefaultNextEditPlaces
	}
	minConf := opts.MinConfidence
	if minConf == 0 {
		minConf = DefaultNextEditConfidence
	}
	var out []NextEdit
	checked := 0
	for i, p := range cands {
		if checked >= limit || i >= maxNextEditChecks*limit {
			break // a rename of "err" has hundreds of places: the nearest do
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if !d.nextEditValid(ctx, p.start, p.end, p.text) {
			continue // the substitution does not parse here
		}
		checked++
		ne := NextEdit{Start: p.start, End: p.end, Text: p.text, Confidence: p.prior, Kind: p.kind, Source: "copy"}
		if !opts.CopyOnly {
			if ne, err = c.denoisePlace(ctx, d, ch, p, opts); err != nil {
				return out, err
			}
		}
		if minConf > 0 && ne.Confidence < minConf {
			continue
		}
		ne.Elapsed = time.Since(start)
		out = append(out, ne)
	}
	return out, nil
}

// denoisePlace re-masks the span place p would change and lets the engine
// fill it with the rest of the document (the user's edit included) in
// view. A fill that is p's text confirms it; one that keeps the old text
// lowers p's confidence; another valid, surer fill replaces it.
func (c *Completer) denoisePlace(ctx context.Context, d *docState, ch change, p place, opts NextEditOptions) (NextEdit, error) {
	ne := NextEdit{Start: p.start, End: p.end, Text: p.text, Confidence: p.prior, Kind: p.kind, Source: "copy"}
	sz := newSizer(c.engine, opts.Options)
	old := d.text[p.start:p.end]
	maxTok := max(sz.count(p.text), sz.count(old)) + nextEditHoleMargin
	cv := buildCanvas(d.text, p.start, p.end, maxTok, "", sz)
	cv.MaxLines = 1
	eo := engineOptions(opts.Options, plan{block: lineBlock})
	eo.Candidates = 1
	res, err := c.engine.Infill(ctx, engine.Request{Segments: cv.segments(), Opts: eo, Sources: cv.Sources})
	if err != nil {
		if ctx.Err() != nil {
			return ne, ctx.Err()
		}
		return ne, fmt.Errorf("infill: next edit of %s at byte %d: %w", d.path, p.start, err)
	}
	if len(res.Candidates) == 0 || len(res.Candidates[0].Holes) == 0 {
		return ne, nil
	}
	f := res.Candidates[0]
	fill, conf := f.Holes[0], f.Confidence
	if math.IsNaN(f.LogProb) || math.IsNaN(conf) {
		conf = 0.5 // a backend that cannot say: neither confirms nor denies strongly
	}
	if i := strings.IndexByte(fill, '\n'); i >= 0 {
		fill = fill[:i]
	}
	switch {
	case fill == p.text || strings.TrimSpace(fill) == strings.TrimSpace(p.text) && strings.TrimSpace(p.text) != "":
		ne.Confidence = 1 - (1-p.prior)*(1-conf)
		ne.Source = "model+copy"
	case fill == old || strings.TrimSpace(fill) == strings.TrimSpace(old) && strings.TrimSpace(old) != "":
		ne.Confidence = p.prior * (1 - 0.2*conf) // the engine would keep the old text; a call (0.65) or rename (0.6) still shows
	default:
		// A fill unlike both says little about the place: the prior stands.
		// The engine's own text, when it is surer than the prior and
		// changes the place the same way (the same punctuation around
		// other names: "fullName" for "name", not ", 4, 4," for ", 0").
		if conf > max(p.prior, minOwnFill) && fill != "" && skeleton(fill) == skeleton(p.text) && !undoes(ch, p, fill) {
			if d.nextEditValid(ctx, p.start, p.end, fill) {
				ne.Text, ne.Confidence, ne.Source = fill, conf, "model"
			}
		}
	}
	return ne, nil
}

// nextEditValid is the syntax gate of a next edit: the completion gate
// (no new error, the language's own judge), and, stricter than a
// completion's, no more errors than the document has: a document left
// broken by the user's edit must not excuse a prediction that breaks it
// elsewhere.
func (d *docState) nextEditValid(ctx context.Context, start, end int, text string) bool {
	if d.tree == nil {
		return true
	}
	chk, err := d.check(ctx, start, end, text)
	return err == nil && chk.Valid && chk.Errors <= chk.Before
}

// minOwnFill is what the engine's own text needs, in its mean token
// probability, to replace the substitution.
const minOwnFill = 0.8

// skeleton is text without its names and numbers: the shape of a change.
func skeleton(text string) string {
	var b strings.Builder
	word := false
	for i := 0; i < len(text); i++ {
		if c := text[i]; isWordByte(c) || c >= 0x80 {
			if !word {
				b.WriteByte('w')
			}
			word = true
		} else {
			b.WriteByte(c)
			word = false
		}
	}
	return b.String()
}

// undoes reports whether filling place p with text would put back what
// the user just replaced: the new text turned into the old.
func undoes(ch change, p place, text string) bool {
	return ch.Old != "" && text == ch.Old && p.text == ch.New
}
