package native

import (
	"fmt"

	"github.com/dfim/dfim/engine"
)

// defaultMaxTok is a hole's slot count when a Segment leaves MaxTok at 0:
// room for one line of code.
const defaultMaxTok = 16

// A holeSpan is where one hole sits in the canvas's token sequence.
type holeSpan struct {
	start int // position of the first slot to fill
	n     int // slots to fill
	// oneLine: the hole is the rest of one line (Segment.MaxLines 1), so a
	// committed newline ends it.
	oneLine bool
}

// layout is a canvas turned into tokens: every fixed segment tokenized on
// its own (so a hole starts and ends on token boundaries), every hole a run
// of mask tokens.
type layout struct {
	tokens []int32 // fixed tokens and masks
	holes  []holeSpan
	// trimmed counts fixed tokens dropped to fit the context: from the
	// start of the first segment, then from the end of the last.
	trimmed int
}

// buildLayout tokenizes a canvas. maxLen is the model's context length.
func (d *Denoiser) buildLayout(segs []engine.Segment, maxLen int) (*layout, error) {
	if len(segs) == 0 {
		return nil, fmt.Errorf("native: the canvas has no segments")
	}
	type piece struct {
		fixed []int32
		hole  *holeSpan
	}
	var pieces []piece
	nHoles := 0
	for i, s := range segs {
		if !s.Hole {
			pieces = append(pieces, piece{fixed: d.tok.Encode(s.Text)})
			continue
		}
		if s.MaxTok < 0 {
			return nil, fmt.Errorf("native: hole %d (segment %d) has MaxTok %d; want 0 (default) or more", nHoles, i, s.MaxTok)
		}
		h := &holeSpan{n: s.MaxTok, oneLine: s.MaxLines == 1}
		if h.n == 0 {
			h.n = defaultMaxTok
		}
		pieces = append(pieces, piece{hole: h})
		nHoles++
	}
	if nHoles == 0 {
		return nil, fmt.Errorf("native: the canvas has no hole to fill")
	}
	total := 0
	holeTok := 0
	for _, p := range pieces {
		if p.hole != nil {
			holeTok += p.hole.n
		} else {
			total += len(p.fixed)
		}
	}
	if d.bos >= 0 {
		total++
	}
	if d.spans != nil && d.eos >= 0 {
		total++ // DreamOn's prompt ends with EOS
	}
	total += holeTok
	lay := &layout{}
	if excess := total - maxLen; excess > 0 {
		// Too long for the model: drop the far ends of the fixed text, the
		// part least likely to matter at the holes.
		first, last := &pieces[0], &pieces[len(pieces)-1]
		if first.hole == nil {
			cut := min(excess, len(first.fixed))
			first.fixed = first.fixed[cut:]
			excess -= cut
			lay.trimmed += cut
		}
		if excess > 0 && last.hole == nil {
			cut := min(excess, len(last.fixed))
			last.fixed = last.fixed[:len(last.fixed)-cut]
			excess -= cut
			lay.trimmed += cut
		}
		if excess > 0 {
			return nil, fmt.Errorf("native: the canvas needs %d tokens, %d more than the model's context of %d even with its ends cut; send less text between the holes or smaller holes", total, excess, maxLen)
		}
	}
	if d.bos >= 0 {
		lay.tokens = append(lay.tokens, d.bos)
	}
	for _, p := range pieces {
		if p.hole == nil {
			lay.tokens = append(lay.tokens, p.fixed...)
			continue
		}
		p.hole.start = len(lay.tokens)
		for range p.hole.n {
			lay.tokens = append(lay.tokens, d.mask)
		}
		lay.holes = append(lay.holes, *p.hole)
	}
	if d.spans != nil && d.eos >= 0 {
		lay.tokens = append(lay.tokens, d.eos)
	}
	return lay, nil
}
