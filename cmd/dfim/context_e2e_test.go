package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dfim/dfim/engine"
)

// canvasTestEngine answers "Frobnicate(x)" and records the text of every
// canvas it was sent.
type canvasTestEngine struct {
	mu       sync.Mutex
	canvases []string
}

func (e *canvasTestEngine) Infill(_ context.Context, req engine.Request) (engine.Result, error) {
	var b strings.Builder
	for _, s := range req.Segments {
		b.WriteString(s.Text)
	}
	e.mu.Lock()
	e.canvases = append(e.canvases, b.String())
	e.mu.Unlock()
	holes := 0
	for _, s := range req.Segments {
		if s.Hole {
			holes++
		}
	}
	f := engine.Fill{Confidence: 0.9}
	for range holes {
		f.Holes, f.Tokens = append(f.Holes, "Frobnicate(x)"), append(f.Tokens, 4)
	}
	return engine.Result{Candidates: []engine.Fill{f}, Steps: 1}, nil
}

func (e *canvasTestEngine) Close() error { return nil }

// taken returns the canvases so far and forgets them.
func (e *canvasTestEngine) taken() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.canvases
	e.canvases = nil
	return c
}

var canvasEngine = &canvasTestEngine{}

func init() {
	engine.Register("xcanvastest", func(engine.Config) (engine.Denoiser, error) { return canvasEngine, nil })
}

// TestFillAndBatchUseCrossFileContext: dfim fill and dfim batch index the
// workspace and send the definition another file holds; --no-context
// sends none; dfim context prints the canvas fill sends.
func TestFillAndBatchUseCrossFileContext(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("go.mod", "module example.com/w\n")
	write("lib/lib.go", "package lib\n\n// Frobnicate doubles x.\nfunc Frobnicate(x int) int { return 2 * x }\n")
	use := write("app/use.go", "package app\n\nimport \"example.com/w/lib\"\n\nfunc use(x int) int {\n\ty := lib.Frobnicate(x)\n\treturn \n}\n")
	const def = "func Frobnicate(x int) int"

	code, out, stderr := runCLI(t, "fill", "--engine", "xcanvastest", "--json", use+":7:9")
	if code != exitOK {
		t.Fatalf("dfim fill: exit %d, stderr %s", code, stderr)
	}
	var got fillJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	canvases := canvasEngine.taken()
	if got.ContextBytes == 0 || len(canvases) == 0 || !strings.Contains(canvases[0], def) {
		t.Errorf("dfim fill: context_bytes %d, canvases %q; want the definition from lib/lib.go", got.ContextBytes, canvases)
	}

	// dfim context prints exactly that canvas, the marker at the hole.
	code, printed, stderr := runCLI(t, "context", "--engine", "xcanvastest", "--marker", "", use+":7:9")
	if code != exitOK || len(canvases) == 0 || printed != canvases[0] {
		t.Errorf("dfim context: exit %d, printed\n%s\nwant what fill sent\n%v\n(stderr %s)", code, printed, canvases, stderr)
	}

	runCLI(t, "fill", "--engine", "xcanvastest", "--no-context", use+":7:9")
	if c := canvasEngine.taken(); len(c) == 0 || strings.Contains(c[0], def) {
		t.Errorf("dfim fill --no-context sent %q", c)
	}

	write("app/hole.go", "package app\n\nimport \"example.com/w/lib\"\n\nfunc twice(x int) int {\n\t_ = lib.Frobnicate\n\treturn <<fill>>\n}\n")
	code, _, stderr = runCLI(t, "batch", "--engine", "xcanvastest", "--dry-run", filepath.Join(root, "app"))
	canvases = canvasEngine.taken()
	if code != exitOK || len(canvases) == 0 || !strings.Contains(canvases[0], def) {
		t.Errorf("dfim batch: exit %d, canvases %q, stderr %s; want the definition from lib/lib.go", code, canvases, stderr)
	}
}
