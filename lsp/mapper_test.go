package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func pos(line, char uint32) protocol.Position { return protocol.Position{Line: line, Character: char} }

func TestMapperOffset(t *testing.T) {
	// "𝄞" is outside the BMP: 4 bytes, 2 UTF-16 units. "é" is 2 bytes, 1 unit.
	text := "a𝄞b\r\nél\r\n\nlast"
	tests := []struct {
		name string
		enc  Encoding
		p    protocol.Position
		want int
	}{
		{"start", UTF16, pos(0, 0), 0},
		{"before non-BMP", UTF16, pos(0, 1), 1},
		{"inside surrogate pair rounds down", UTF16, pos(0, 2), 1},
		{"after non-BMP utf16", UTF16, pos(0, 3), 5},
		{"after non-BMP utf8", UTF8, pos(0, 5), 5},
		{"inside rune utf8 rounds down", UTF8, pos(0, 3), 1},
		{"end of CRLF line", UTF16, pos(0, 4), 6},
		{"past end of CRLF line clamps before CR", UTF16, pos(0, 99), 6},
		{"second line after é utf16", UTF16, pos(1, 1), 10},
		{"second line after é utf8", UTF8, pos(1, 2), 10},
		{"empty line", UTF16, pos(2, 5), 13},
		{"last line without newline", UTF16, pos(3, 4), 18},
		{"past end of last line", UTF16, pos(3, 40), 18},
		{"past last line clamps to end of text", UTF16, pos(99, 0), 18},
		{"huge values", UTF8, pos(^uint32(0), ^uint32(0)), 18},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMapper(text, tt.enc)
			if got := m.Offset(tt.p); got != tt.want {
				t.Errorf("Offset(%v) = %d, want %d", tt.p, got, tt.want)
			}
		})
	}
}

func TestMapperPosition(t *testing.T) {
	text := "a𝄞b\r\nél\n"
	tests := []struct {
		enc  Encoding
		off  int
		want protocol.Position
	}{
		{UTF16, 0, pos(0, 0)},
		{UTF16, 1, pos(0, 1)},
		{UTF16, 3, pos(0, 1)}, // inside 𝄞: rounded down
		{UTF16, 5, pos(0, 3)},
		{UTF8, 5, pos(0, 5)},
		{UTF16, 7, pos(0, 4)}, // between \r and \n: end of line content
		{UTF16, 8, pos(1, 0)},
		{UTF16, 10, pos(1, 1)},
		{UTF8, 10, pos(1, 2)},
		{UTF16, 12, pos(2, 0)}, // after final newline: an empty last line
		{UTF16, 500, pos(2, 0)},
		{UTF16, -3, pos(0, 0)},
	}
	for _, tt := range tests {
		m := NewMapper(text, tt.enc)
		if got := m.Position(tt.off); got != tt.want {
			t.Errorf("%s Position(%d) = %v, want %v", tt.enc, tt.off, got, tt.want)
		}
	}
}

func TestMapperRoundTrip(t *testing.T) {
	text := "package main\r\n\r\nfunc f() string { return \"😀x\" }\n// ünïcode 𝄞\n"
	for _, enc := range []Encoding{UTF8, UTF16} {
		m := NewMapper(text, enc)
		for off := 0; off <= len(text); off++ {
			p := m.Position(off)
			back := m.Offset(p)
			if back > off {
				t.Fatalf("%s: offset %d -> %v -> %d moved forward", enc, off, p, back)
			}
			if m.Position(back) != p {
				t.Fatalf("%s: offset %d -> %v -> %d -> %v not stable", enc, off, p, back, m.Position(back))
			}
		}
	}
}

func TestMapperInvalidUTF8(t *testing.T) {
	text := "a\xffb\xe2\x82"
	m := NewMapper(text, UTF16)
	if got := m.Offset(pos(0, 2)); got != 2 {
		t.Errorf("Offset after invalid byte = %d, want 2", got)
	}
	if got := m.Offset(pos(0, 100)); got != len(text) {
		t.Errorf("Offset past end = %d, want %d", got, len(text))
	}
	for off := 0; off <= len(text); off++ {
		_ = m.Position(off) // must not panic
	}
}

func FuzzMapper(f *testing.F) {
	f.Add("a𝄞b\r\nél\n", uint32(0), uint32(3), 4)
	f.Fuzz(func(t *testing.T, text string, line, char uint32, off int) {
		for _, enc := range []Encoding{UTF8, UTF16} {
			m := NewMapper(text, enc)
			o := m.Offset(pos(line, char))
			if o < 0 || o > len(text) {
				t.Fatalf("Offset out of range: %d", o)
			}
			_ = m.Position(off)
		}
	})
}

// A lone "\r" ends a line as "\n" and "\r\n" do (LSP 3.17, "Text
// Documents"): an old-Mac file's positions name its lines, not one long
// line, and each kind of break maps like the "\n" document's.
func TestMapperLoneCR(t *testing.T) {
	lf := "package a\n\nfunc f() {\n\t<<fill>>\n}\n"
	for _, eol := range []string{"\r", "\r\n", "\n"} {
		text := strings.ReplaceAll(lf, "\n", eol)
		for _, enc := range []Encoding{UTF8, UTF16} {
			m := NewMapper(text, enc)
			if m.Lines() != 6 {
				t.Errorf("%q %s: %d lines, want 6", eol, enc, m.Lines())
			}
			marker := strings.Index(text, "<<fill>>")
			if got, want := m.Position(marker), pos(3, 1); got != want {
				t.Errorf("%q %s: Position(marker) = %v, want %v", eol, enc, got, want)
			}
			if got := m.Offset(pos(3, 1)); got != marker {
				t.Errorf("%q %s: Offset(3:1) = %d, want %d", eol, enc, got, marker)
			}
			// Past the end of line 3 clamps before its break.
			if got, want := m.Offset(pos(3, 99)), marker+len("<<fill>>"); got != want {
				t.Errorf("%q %s: Offset(3:99) = %d, want %d", eol, enc, got, want)
			}
			if got, want := m.Offset(pos(4, 0)), strings.Index(text, "}"); got != want {
				t.Errorf("%q %s: Offset(4:0) = %d, want %d", eol, enc, got, want)
			}
		}
	}
	// "\r\r\n" is a lone "\r" then a CRLF: two breaks.
	m := NewMapper("a\r\r\nb", UTF16)
	if m.Lines() != 3 || m.Offset(pos(2, 0)) != 4 || m.Position(1) != pos(0, 1) || m.Position(2) != pos(1, 0) {
		t.Errorf(`"a\r\r\nb": %d lines, line 2 at %d, Position(1) = %v, Position(2) = %v; want 3 lines, 4, 0:1, 1:0`,
			m.Lines(), m.Offset(pos(2, 0)), m.Position(1), m.Position(2))
	}
}
