package lsp

import (
	"math/rand/v2"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func rng(l1, c1, l2, c2 uint32) protocol.Range {
	return protocol.Range{Start: pos(l1, c1), End: pos(l2, c2)}
}

func TestBufferReplace(t *testing.T) {
	tests := []struct {
		name, text string
		r          protocol.Range
		insert     string
		want       string
	}{
		{"insert at start", "ab\ncd\n", rng(0, 0, 0, 0), "x", "xab\ncd\n"},
		{"replace across lines", "ab\ncd\nef", rng(0, 1, 2, 1), "Z", "aZf"},
		{"insert newline", "ab\ncd", rng(1, 1, 1, 1), "\n", "ab\nc\nd"},
		{"past end of line clamps", "ab\r\ncd", rng(0, 9, 0, 9), "!", "ab!\r\ncd"},
		{"past end of file appends", "ab", rng(7, 0, 7, 0), "\nz", "ab\nz"},
		{"reversed range inserts at start", "abcd", rng(0, 3, 0, 1), "_", "abc_d"},
		{"non-BMP utf16", "x𝄞y\n", rng(0, 1, 0, 3), "", "xy\n"},
		{"delete all", "a\nb\nc", rng(0, 0, 2, 1), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuffer(tt.text)
			b.replace(tt.r, tt.insert, UTF16)
			if got := b.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if b.size != len(tt.want) {
				t.Errorf("size %d, want %d", b.size, len(tt.want))
			}
		})
	}
}

// TestBufferMatchesMapper applies random edits to a multi-chunk buffer and
// to a plain string (through the Mapper) and checks they agree.
func TestBufferMatchesMapper(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for i := range 3000 {
		sb.WriteString(strings.Repeat("é𝄞x", i%7))
		if i%5 == 0 {
			sb.WriteString("\r")
		}
		sb.WriteString("\n")
	}
	text := sb.String()
	b := newBuffer(text)
	if len(b.chunks) < 5 {
		t.Fatalf("want a multi-chunk buffer, got %d chunks", len(b.chunks))
	}
	inserts := []string{"", "a", "\n", "line\nline\n", "😀", strings.Repeat("long line\n", 600)}
	for i := range 400 {
		lines := uint32(strings.Count(text, "\n") + 2)
		p1 := pos(r.Uint32N(lines), r.Uint32N(30))
		p2 := pos(p1.Line+r.Uint32N(3), r.Uint32N(30))
		ins := inserts[r.IntN(len(inserts))]
		m := NewMapper(text, UTF16)
		s, e := m.Offset(p1), m.Offset(p2)
		if e < s {
			e = s
		}
		text = text[:s] + ins + text[e:]
		b.replace(protocol.Range{Start: p1, End: p2}, ins, UTF16)
		if got := b.String(); got != text {
			t.Fatalf("edit %d (%v-%v %q): buffer diverged from string", i, p1, p2, ins)
		}
		for k, c := range b.chunks {
			if k < len(b.chunks)-1 && !strings.HasSuffix(c.text, "\n") {
				t.Fatalf("edit %d: chunk %d of %d does not end in a newline", i, k, len(b.chunks))
			}
			if c.newlines != strings.Count(c.text, "\n") {
				t.Fatalf("edit %d: chunk %d newline count is stale", i, k)
			}
		}
	}
}
