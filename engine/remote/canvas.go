package remote

import (
	"fmt"
	"strings"

	"github.com/dfim/dfim/engine"
)

// defaultMaxTokens is the hole length asked for when a segment gives none.
const defaultMaxTokens = 64

// A fimCanvas is a canvas with one hole, in the shape FIM APIs take.
type fimCanvas struct {
	// extra holds the fixed segments before the prefix: cross-file context
	// chunks. llama.cpp's /infill takes them as input_extra; the other APIs
	// read them as the start of the prompt.
	extra  []string
	prefix string // the fixed segment just before the hole
	suffix string // every fixed segment after the hole
	maxTok int
	// stop lists texts at which the server should end the fill: a newline
	// for a hole that is the rest of one line, so a one-slot server does
	// not generate to maxTok for a line the caller will cut anyway
	// (engine.Segment.MaxLines == 1).
	stop []string
}

// before is the text before the hole, for APIs with no separate field
// for context: extra chunks, then the prefix.
func (c fimCanvas) before() string {
	return strings.Join(c.extra, "") + c.prefix
}

// parseCanvas maps a canvas to one FIM request. Several holes cannot be
// filled jointly by a left-to-right model: that is engine.ErrUnsupported,
// and infill then fills them one at a time.
func parseCanvas(segs []engine.Segment) (fimCanvas, error) {
	hole := -1
	for i, s := range segs {
		if !s.Hole {
			continue
		}
		if hole >= 0 {
			return fimCanvas{}, fmt.Errorf("remote engines fill one hole per request, this canvas has several: %w", engine.ErrUnsupported)
		}
		hole = i
	}
	if hole < 0 {
		return fimCanvas{}, fmt.Errorf("remote engine: the canvas (%d segments) has no hole to fill", len(segs))
	}
	var c fimCanvas
	var before []string
	for _, s := range segs[:hole] {
		before = append(before, s.Text)
	}
	if len(before) > 0 {
		c.prefix = before[len(before)-1]
		c.extra = before[:len(before)-1]
	}
	for _, s := range segs[hole+1:] {
		c.suffix += s.Text
	}
	if segs[hole].MaxLines == 1 {
		c.stop = []string{"\n"}
	}
	c.maxTok = segs[hole].MaxTok
	if c.maxTok <= 0 {
		c.maxTok = defaultMaxTokens
	}
	return c, nil
}

// fit cuts the canvas for a server whose slot holds ctxTokens tokens and
// that counted promptTokens in it: the prefix and cross-file context lose
// their farthest lines, the suffix its last, each in proportion, leaving
// room for the hole. ok is false when nothing sensible is left to cut.
func (c fimCanvas) fit(promptTokens, ctxTokens int) (fimCanvas, bool) {
	budget := ctxTokens - c.maxTok - 16
	if promptTokens <= 0 || budget <= 0 || promptTokens <= budget {
		return c, false
	}
	keep := 0.9 * float64(budget) / float64(promptTokens) // a margin: tokens are not spread evenly
	cut := c
	cut.prefix = keepEnd(c.prefix, keep)
	cut.suffix = keepStart(c.suffix, keep)
	cut.extra = nil
	for _, x := range c.extra {
		if x = keepEnd(x, keep); x != "" {
			cut.extra = append(cut.extra, x)
		}
	}
	return cut, len(cut.prefix)+len(cut.suffix) < len(c.prefix)+len(c.suffix)
}

// keepEnd keeps about the last share of text, from a line start (the
// cursor's own line always).
func keepEnd(text string, share float64) string {
	from := len(text) - int(share*float64(len(text)))
	if from <= 0 {
		return text
	}
	if i := strings.IndexByte(text[from:], '\n'); i >= 0 {
		return text[from+i+1:]
	}
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		return text[i+1:]
	}
	return text
}

// keepStart keeps about the first share of text, up to a line end (the
// rest of the cursor's line always).
func keepStart(text string, share float64) string {
	to := int(share * float64(len(text)))
	if to >= len(text) {
		return text
	}
	if i := strings.LastIndexByte(text[:to], '\n'); i >= 0 {
		return text[:i+1]
	}
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		return text[:i+1]
	}
	return text
}
