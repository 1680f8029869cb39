package infill

import (
	"strings"

	"github.com/dfim/dfim/engine"
)

// defaultContextTokens sizes a canvas for an engine that does not say.
const defaultContextTokens = 2048

// bytesPerToken guesses token counts for an engine without a tokenizer.
const bytesPerToken = 3.5

// A canvas is the text sent around one hole: the prefix window (after any
// cross-file context), the hole, and the suffix window, all cut at line
// boundaries, nearest text first.
type canvas struct {
	Extra       string // cross-file context before the prefix
	Prefix      string // document[PrefixStart:Start]
	Suffix      string // document[End:SuffixEnd]
	PrefixStart int
	SuffixEnd   int
	Start, End  int // the hole's range in the document
	MaxTok      int
	MaxLines    int // 1 for a line-shaped hole (engine.Segment.MaxLines)
	// Sources is what the engine's experts may read beyond the canvas:
	// the whole cross-file context and the document around the windows.
	Sources []string
}

// maxSourceBytes bounds the document text given as Sources on each side
// of the windows: the copy expert scans it at every slot.
const maxSourceBytes = 16 << 10

// segments is the canvas as the engine takes it. Cross-file context is a
// segment of its own, so a backend that takes it apart from the prefix
// (llama.cpp's input_extra) can tell it apart.
func (c canvas) segments() []engine.Segment {
	hole := engine.Segment{Hole: true, MaxTok: c.MaxTok, MaxLines: c.MaxLines}
	if c.Extra == "" {
		return []engine.Segment{{Text: c.Prefix}, hole, {Text: c.Suffix}}
	}
	return []engine.Segment{{Text: c.Extra}, {Text: c.Prefix}, hole, {Text: c.Suffix}}
}

// sizer counts tokens the way the engine will.
type sizer struct {
	count   func(string) int
	context int          // the most tokens a canvas may hold
	budget  canvasBudget // the most each of its parts may take (budget.go)
}

// newSizer sizes the canvases of a request with opts: to the engine's
// context (or opts.ContextTokens, when positive), and within that to the
// request kind's budget (budgetFor).
func newSizer(d engine.Denoiser, opts Options) sizer {
	s := sizer{context: defaultContextTokens, count: func(t string) int { return int(float64(len(t))/bytesPerToken) + 1 },
		budget: budgetFor(opts)}
	if cs, ok := d.(engine.ContextSizer); ok && cs.ContextLength() > 0 {
		s.context = cs.ContextLength()
	}
	if opts.ContextTokens > 0 {
		s.context = min(s.context, opts.ContextTokens)
	}
	if tc, ok := d.(engine.TokenCounter); ok {
		s.count = tc.CountTokens
	}
	return s
}

// holeLimit is the most tokens a hole may take in a canvas of this size:
// three quarters of it, the rest kept for the cursor's lines and the text
// around them (buildCanvas's windows).
func (s sizer) holeLimit() int { return max(s.context*3/4, 1) }

// prefixWindow returns where the prefix window starts: the cursor's own
// line always, then whole lines backward while they fit budget.
func prefixWindow(text string, pos, budget int, count func(string) int) (start, used int) {
	start = strings.LastIndexByte(text[:pos], '\n') + 1
	used = count(text[start:pos])
	for start > 0 {
		ls := strings.LastIndexByte(text[:start-1], '\n') + 1
		n := count(text[ls:start])
		if used+n > budget {
			break
		}
		start, used = ls, used+n
	}
	return start, used
}

// suffixWindow returns where the suffix window ends: the rest of the
// cursor's line always, then whole lines forward while they fit budget.
func suffixWindow(text string, end, budget int, count func(string) int) (stop, used int) {
	stop = len(text)
	if i := strings.IndexByte(text[end:], '\n'); i >= 0 {
		stop = end + i + 1
	}
	used = count(text[end:stop])
	for stop < len(text) {
		le := len(text)
		if i := strings.IndexByte(text[stop:], '\n'); i >= 0 {
			le = stop + i + 1
		}
		n := count(text[stop:le])
		if used+n > budget {
			break
		}
		stop, used = le, used+n
	}
	return stop, used
}

// buildCanvas cuts the windows around the hole [start, end) of text for a
// hole of maxTok tokens: a quarter of what is left for the suffix, the rest
// (and what the suffix did not use) for the prefix, with cross-file
// context taking at most a third of the prefix's share, its last lines
// kept; each part also within sz.budget.
func buildCanvas(text string, start, end, maxTok int, extra string, sz sizer) canvas {
	fullExtra := extra
	avail := max(sz.context-maxTok-8, 16)
	sufEnd, sufUsed := suffixWindow(text, end, capped(avail/4, sz.budget.suffix), sz.count)
	preBudget := avail - sufUsed
	if extra != "" {
		eb := capped(preBudget/3, sz.budget.extra)
		if sz.count(extra) > eb {
			es, _ := prefixWindow(extra, len(extra), eb, sz.count)
			extra = extra[es:]
		}
		if extra != "" && !strings.HasSuffix(extra, "\n") {
			extra += "\n"
		}
		preBudget -= sz.count(extra)
	}
	preStart, _ := prefixWindow(text, start, capped(preBudget, sz.budget.prefix), sz.count)
	before := text[max(0, preStart-maxSourceBytes):preStart]
	if i := strings.IndexByte(before, '\n'); i >= 0 && preStart > maxSourceBytes {
		before = before[i+1:] // whole lines only
	}
	after := text[sufEnd:min(len(text), sufEnd+maxSourceBytes)]
	var sources []string
	for _, s := range []string{fullExtra, before, after} {
		if s != "" {
			sources = append(sources, s)
		}
	}
	return canvas{Extra: extra, Prefix: text[preStart:start], Suffix: text[end:sufEnd],
		PrefixStart: preStart, SuffixEnd: sufEnd, Start: start, End: end, MaxTok: maxTok, Sources: sources}
}

// coverClosers extends a hole at pos over the rest of its line when that
// is only closing brackets or quotes, so a suggestion may cover them.
func coverClosers(text string, pos int) int {
	eol := len(text)
	if i := strings.IndexByte(text[pos:], '\n'); i >= 0 {
		eol = pos + i
	}
	rest := strings.TrimRight(text[pos:eol], " \t\r")
	if rest == "" || strings.Trim(rest, closers+" ;,") != "" {
		return pos
	}
	return pos + len(rest)
}
