package lsp

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/tools/txtar"

	"github.com/dfim/dfim/infill"
)

var update = flag.Bool("update", false, "rewrite the -- want -- sections of testdata/markers/*.txtar")

// TestMarkers runs the cases of testdata/markers, as infill's marker tests
// do, through the real server with a scripted completer. Each archive holds
// a sentence saying what it shows; one source file with «…» around the
// bytes the suggestion replaces, the cursor at », («» for an insertion); a
// "suggest" file with the suggestion's text; optional "options" (key=value
// lines: encodings=utf-8,utf-16 offered by the client; methods=a,b to ask);
// and a "want" golden: every method's result as the client gets it.
func TestMarkers(t *testing.T) {
	files, _ := filepath.Glob("testdata/markers/*.txtar")
	if len(files) == 0 {
		t.Fatal("no testdata/markers/*.txtar")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var src, name, suggest string
			var encodings []string
			methods := []string{"textDocument/completion", "textDocument/inlineCompletion"}
			wantIdx := -1
			for i, f := range ar.Files {
				switch f.Name {
				case "want":
					wantIdx = i
				case "suggest":
					suggest = strings.TrimSuffix(string(f.Data), "\n")
				case "options":
					for _, kv := range strings.Fields(string(f.Data)) {
						k, v, _ := strings.Cut(kv, "=")
						switch k {
						case "encodings":
							encodings = strings.Split(v, ",")
						case "methods":
							methods = strings.Split(v, ",")
						default:
							t.Fatalf("unknown option %q", k)
						}
					}
				default:
					src, name = string(f.Data), f.Name
				}
			}
			open := strings.Index(src, "«")
			shut := strings.Index(src, "»")
			if open < 0 || shut < open {
				t.Fatalf("%s has no «…» marker", name)
			}
			text := src[:open] + src[open+len("«"):shut] + src[shut+len("»"):]
			start, cursor := open, shut-len("«")
			f := &fakeCompleter{fn: func(_ context.Context, _ infill.Document, pos int, _ infill.Options) ([]infill.Suggestion, error) {
				if pos != cursor {
					t.Errorf("completer asked at byte %d, want %d (the marker's »)", pos, cursor)
				}
				return []infill.Suggestion{{Text: suggest, Start: start, End: cursor}}, nil
			}}
			c := startServer(t, Options{Completer: f})
			init := c.initialize(encodings...)
			enc := init["result"].(map[string]any)["capabilities"].(map[string]any)["positionEncoding"].(string)
			uri := "file:///" + name
			c.open(uri, "", text)
			var got strings.Builder
			got.WriteString("positionEncoding " + enc + "\n")
			for i, m := range methods {
				p := msg{"textDocument": msg{"uri": uri}, "position": lspPosition(text, cursor, enc)}
				if m == "textDocument/inlineCompletion" {
					p["context"] = msg{"triggerKind": 1}
				}
				resp := c.call(i+1, m, p)
				b, _ := json.MarshalIndent(resp["result"], "", "  ")
				got.WriteString(m + ":\n" + string(b) + "\n")
			}
			if wantIdx < 0 {
				t.Fatalf("%s has no want section", file)
			}
			if *update {
				ar.Files[wantIdx].Data = []byte(got.String())
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := string(ar.Files[wantIdx].Data); got.String() != want {
				t.Errorf("got\n%s\nwant\n%s", got.String(), want)
			}
		})
	}
}

// lspPosition is byte offset off of text as an LSP position in enc,
// computed here independently of the server's Mapper.
func lspPosition(text string, off int, enc string) msg {
	line := strings.Count(text[:off], "\n")
	col := text[strings.LastIndexByte(text[:off], '\n')+1 : off]
	n := len(col)
	if enc == "utf-16" {
		n = len(utf16.Encode([]rune(col)))
	}
	return posMsg(line, n)
}
