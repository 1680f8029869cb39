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
	extra   []string
	prefix  string // the fixed segment just before the hole
	prefill string // text the hole must start with (Segment.Prefill)
	suffix  string // every fixed segment after the hole
	maxTok  int
}

// before is the text before the hole: extra chunks, then the prefix.
func (c fimCanvas) before() string {
	return strings.Join(c.extra, "") + c.prefix
}

// prompt is everything before the generated text, for APIs with no
// separate field for context: extra chunks, prefix and prefill.
func (c fimCanvas) prompt() string { return c.before() + c.prefill }

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
	c.prefill = segs[hole].Prefill
	c.maxTok = segs[hole].MaxTok
	if c.maxTok <= 0 {
		c.maxTok = defaultMaxTokens
	}
	return c, nil
}
