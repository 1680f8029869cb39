package infill

import (
	"context"
	"strings"
	"testing"
)

// In an old-Mac file (lone "\r" line breaks) the grammars saw the first
// "//" comment run to the end of the file, so CodeHoles left out every
// marker after it as commented. It now parses lone "\r" as "\n"; CRLF and
// LF files keep their answers, and the holes' offsets are the text's.
func TestCodeHolesCROnly(t *testing.T) {
	const lf = "package a\n\n// f does things.\nfunc f() {\n\t<<fill>>\n\t// not this one: <<fill>>\n\ts := \"<<fill>>\"\n}\n"
	ms, err := NewMarkerSyntax(DefaultMarker)
	if err != nil {
		t.Fatal(err)
	}
	for name, eol := range map[string]string{"lf": "\n", "crlf": "\r\n", "cr": "\r"} {
		text := strings.ReplaceAll(lf, "\n", eol)
		holes := ms.Holes(text)
		code, left, err := CodeHoles(context.Background(), "go", text, holes)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 1 || left != 2 {
			t.Fatalf("%s: %d holes in code, %d left out; want 1 and 2 (the comment's and the string's)", name, len(code), left)
		}
		if h := code[0]; text[h.Start:h.End] != DefaultMarker || text[h.Start-1] != '\t' {
			t.Errorf("%s: hole %+v covers %q, want the marker on its own line", name, h, text[h.Start:h.End])
		}
	}
}
