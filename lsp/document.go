package lsp

import (
	"strings"
	"sync"

	"go.lsp.dev/protocol"

	"github.com/dfim/dfim/infill"
)

// Chunk sizes of a buffer. An edit rewrites only the chunks it touches, so
// its cost is the edit plus one or two chunks plus a walk over the chunk
// list (a few thousand entries for the largest document allowed).
const (
	chunkTarget = 4 << 10 // split text into chunks of about this many bytes
	chunkMin    = 1 << 10 // merge an edited chunk smaller than this into its neighbour
)

// A chunk is a run of whole lines: every chunk but the last ends in "\n".
// A line never spans two chunks.
type chunk struct {
	text     string
	newlines int
}

// A buffer is a document's text as a list of chunks, so an incremental
// change costs in proportion to the edit rather than the document.
type buffer struct {
	chunks []chunk
	size   int
}

func newBuffer(text string) *buffer {
	return &buffer{chunks: splitChunks(text), size: len(text)}
}

// splitChunks cuts text after a newline about every chunkTarget bytes. A line
// longer than chunkTarget stays whole.
func splitChunks(text string) []chunk {
	out := make([]chunk, 0, len(text)/chunkTarget+1)
	for len(text) > chunkTarget {
		cut := strings.LastIndexByte(text[:chunkTarget], '\n') + 1
		if cut == 0 {
			cut = strings.IndexByte(text, '\n') + 1
			if cut == 0 {
				break
			}
		}
		out = append(out, chunk{text[:cut], strings.Count(text[:cut], "\n")})
		text = text[cut:]
	}
	return append(out, chunk{text, strings.Count(text, "\n")})
}

// locate returns the chunk index and byte offset in that chunk of position p,
// clamped like Mapper.Offset.
func (b *buffer) locate(p protocol.Position, enc Encoding) (ci, off int) {
	line := int(p.Line)
	base := 0 // first line of chunk ci
	for ci = 0; ci < len(b.chunks); ci++ {
		c := b.chunks[ci]
		if line < base+c.newlines || ci == len(b.chunks)-1 {
			break
		}
		base += c.newlines
	}
	c := b.chunks[ci]
	rel := line - base
	if rel > c.newlines { // past the last line: end of text
		return ci, len(c.text)
	}
	start := 0
	for ; rel > 0; rel-- {
		start += strings.IndexByte(c.text[start:], '\n') + 1
	}
	end := len(c.text)
	if i := strings.IndexByte(c.text[start:], '\n'); i >= 0 {
		end = start + i
		if end > start && c.text[end-1] == '\r' {
			end--
		}
	}
	return ci, start + columnToByte(c.text[start:end], int(p.Character), enc)
}

// replace replaces the text of rng with text. A range whose end comes before
// its start is treated as empty at its start.
func (b *buffer) replace(rng protocol.Range, text string, enc Encoding) {
	ci, oi := b.locate(rng.Start, enc)
	cj, oj := b.locate(rng.End, enc)
	if cj < ci || (cj == ci && oj < oi) {
		cj, oj = ci, oi
	}
	removed := 0
	for k := ci; k <= cj; k++ {
		removed += len(b.chunks[k].text)
	}
	joined := b.chunks[ci].text[:oi] + text + b.chunks[cj].text[oj:]
	lo, hi := ci, cj+1
	// Keep chunks from shrinking to nothing, and keep the invariant that
	// only the last chunk may lack a final newline.
	if hi < len(b.chunks) && (len(joined) < chunkMin || !strings.HasSuffix(joined, "\n")) {
		removed += len(b.chunks[hi].text)
		joined += b.chunks[hi].text
		hi++
	}
	b.size += len(joined) - removed
	b.chunks = append(b.chunks[:lo], append(splitChunks(joined), b.chunks[hi:]...)...)
}

func (b *buffer) String() string {
	if len(b.chunks) == 1 {
		return b.chunks[0].text
	}
	var sb strings.Builder
	sb.Grow(b.size)
	for _, c := range b.chunks {
		sb.WriteString(c.text)
	}
	return sb.String()
}

// A document is one open text document.
type document struct {
	uri        protocol.DocumentURI
	languageID string
	version    int32
	// buf is nil while the document is over the size limit.
	buf *buffer
	// size is the document's length in bytes, also when buf is nil.
	size int

	// snapMu guards snap, built on demand and dropped by every change.
	snapMu sync.Mutex
	snap   *snapshot
}

// A snapshot is an immutable view of one version of a document.
type snapshot struct {
	uri    protocol.DocumentURI
	doc    infill.Document // Path: the file's path (documentPath)
	mapper *Mapper
}

func (d *document) snapshot(enc Encoding) *snapshot {
	d.snapMu.Lock()
	defer d.snapMu.Unlock()
	if d.snap == nil {
		text := ""
		if d.buf != nil {
			text = d.buf.String()
		}
		d.snap = &snapshot{
			uri:    d.uri,
			doc:    infill.Document{Path: documentPath(d.uri), LanguageID: d.languageID, Text: text, Version: d.version},
			mapper: NewMapper(text, enc),
		}
	}
	return d.snap
}

func (d *document) setText(text string, limit int) {
	d.size = len(text)
	d.buf = nil
	if len(text) <= limit {
		d.buf = newBuffer(text)
	}
	d.dropSnapshot()
}

func (d *document) dropSnapshot() {
	d.snapMu.Lock()
	d.snap = nil
	d.snapMu.Unlock()
}
