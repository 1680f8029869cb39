package lsp

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.lsp.dev/protocol"
)

// An Encoding is the unit in which a client counts the character of a position.
type Encoding string

// The position encodings of LSP 3.17 that dfim speaks.
const (
	UTF16 Encoding = "utf-16" // the LSP default
	UTF8  Encoding = "utf-8"  // preferred when the client offers it: no conversion
)

// A Mapper converts LSP positions in one snapshot of a document's text to byte
// offsets and back. Lines end at "\n", "\r\n" or a lone "\r" (the line
// breaks of the specification), so CRLF and old-Mac files work. Out-of-range
// positions are clamped as the specification says (past the end of a line: the
// end of that line; past the last line: the end of the text), and a position
// inside a character is rounded down to its start. No input panics.
type Mapper struct {
	text string
	enc  Encoding
	// lineStarts[i] is the byte offset where line i begins.
	lineStarts []int
}

// NewMapper indexes the lines of text.
func NewMapper(text string, enc Encoding) *Mapper {
	m := &Mapper{text: text, enc: enc, lineStarts: make([]int, 1, 1+strings.Count(text, "\n"))}
	for i := 0; ; {
		j := strings.IndexAny(text[i:], "\r\n")
		if j < 0 {
			break
		}
		i += j + 1
		if text[i-1] == '\r' && i < len(text) && text[i] == '\n' {
			i++ // "\r\n" is one break
		}
		m.lineStarts = append(m.lineStarts, i)
	}
	return m
}

// Text returns the text the Mapper indexes.
func (m *Mapper) Text() string { return m.text }

// Lines returns the number of lines (a text without a final newline still has
// its last line; "" has one line).
func (m *Mapper) Lines() int { return len(m.lineStarts) }

// lineContent returns line i without its line break, and the offset where it starts.
func (m *Mapper) lineContent(i int) (string, int) {
	start := m.lineStarts[i]
	end := len(m.text)
	if i+1 < len(m.lineStarts) {
		end = m.lineStarts[i+1] - 1 // drop "\n" or a lone "\r"
		if m.text[end] == '\n' && end > start && m.text[end-1] == '\r' {
			end--
		}
	}
	return m.text[start:end], start
}

// Offset returns the byte offset of p, clamped into the text.
func (m *Mapper) Offset(p protocol.Position) int {
	line := int(p.Line)
	if line >= len(m.lineStarts) {
		return len(m.text)
	}
	content, start := m.lineContent(line)
	return start + columnToByte(content, int(p.Character), m.enc)
}

// Position returns the position of byte offset off (clamped into the text; an
// offset inside a character or a CRLF break is rounded down).
func (m *Mapper) Position(off int) protocol.Position {
	off = max(0, min(off, len(m.text)))
	// The line is the last line start at or before off.
	lo, hi := 0, len(m.lineStarts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if m.lineStarts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	content, start := m.lineContent(lo)
	col := byteToColumn(content, min(off-start, len(content)), m.enc)
	return protocol.Position{Line: uint32(lo), Character: uint32(col)}
}

// Range returns the LSP range of bytes [start, end).
func (m *Mapper) Range(start, end int) protocol.Range {
	return protocol.Range{Start: m.Position(start), End: m.Position(end)}
}

// columnToByte returns the byte offset in line of column col (counted in enc
// units), clamped to len(line) and rounded down to a character start.
func columnToByte(line string, col int, enc Encoding) int {
	if col <= 0 {
		return 0
	}
	if enc == UTF8 {
		if col >= len(line) {
			return len(line)
		}
		for col > 0 && !utf8.RuneStart(line[col]) {
			col--
		}
		return col
	}
	units := 0
	for i, r := range line {
		n := utf16.RuneLen(r)
		if n < 0 { // invalid UTF-8 decodes as U+FFFD, one unit
			n = 1
		}
		if units+n > col {
			return i
		}
		units += n
	}
	return len(line)
}

// byteToColumn returns the column, in enc units, of byte offset off in line
// (0 <= off <= len(line)), rounded down to a character start.
func byteToColumn(line string, off int, enc Encoding) int {
	for off > 0 && off < len(line) && !utf8.RuneStart(line[off]) {
		off--
	}
	if enc == UTF8 {
		return off
	}
	units := 0
	for _, r := range line[:off] {
		n := utf16.RuneLen(r)
		if n < 0 {
			n = 1
		}
		units += n
	}
	return units
}
