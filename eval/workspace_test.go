package eval

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// recorder is a Denoiser that keeps the fixed text of every canvas it gets
// and fills each hole with "x".
type recorder struct {
	mu       sync.Mutex
	canvases []string
}

func (r *recorder) Infill(_ context.Context, req engine.Request) (engine.Result, error) {
	var b strings.Builder
	f := engine.Fill{Confidence: 1}
	for _, seg := range req.Segments {
		if seg.Hole {
			f.Holes = append(f.Holes, "x")
			f.Tokens = append(f.Tokens, 1)
			continue
		}
		b.WriteString(seg.Text)
	}
	r.mu.Lock()
	r.canvases = append(r.canvases, b.String())
	r.mu.Unlock()
	return engine.Result{Candidates: []engine.Fill{f}, Tokens: len(f.Holes), Steps: 1}, nil
}

func (r *recorder) Close() error { return nil }

func TestWorkspaceGivesTasksCrossFileContext(t *testing.T) {
	root := writeFiles(t, crossTree)
	ws, err := OpenWorkspace(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	use := crossTree["b/use.go"]
	at := strings.Index(use, "a.Frobnicate(n)") + len("a.")
	inside := Task{ID: "in", Lang: "go", Kind: KindRandomSpan, Path: "b/use.go",
		Prefix: use[:at], Middle: "Frobnicate", Suffix: use[at+len("Frobnicate"):]}
	outside := inside
	outside.ID, outside.Path = "out", "go/b/use.go" // a dev.jsonl-style path
	escape := inside
	escape.ID, escape.Path = "esc", "../b/use.go"

	askTask := func(tk *Task) string {
		return ws.Context(tk.Path, tk.Prefix+tk.Suffix, len(tk.Prefix), infill.DefaultContextBytes)
	}
	if got := askTask(&inside); !strings.Contains(got, "func Frobnicate(x int) int") || !strings.Contains(got, "// a/def.go") {
		t.Errorf("context of a task in the workspace lacks Frobnicate's definition under its path header:\n%s", got)
	}
	for _, tk := range []*Task{&outside, &escape} {
		if ws.File(tk) != "" || askTask(tk) != "" {
			t.Errorf("task with path %q outside the workspace got a file or context", tk.Path)
		}
	}

	// As the runner's context source, it carries the context into the
	// canvas the engine sees.
	for _, hook := range []bool{true, false} {
		d := &recorder{}
		r := NewRunner(d)
		if hook {
			r.Options.Context = ws
		}
		res, err := r.Run(context.Background(), []Task{inside})
		if err != nil {
			t.Fatal(err)
		}
		sawDef := false
		for _, c := range d.canvases {
			sawDef = sawDef || strings.Contains(c, "func Frobnicate(x int) int")
		}
		if sawDef != hook || (res[0].ContextBytes > 0) != hook {
			t.Errorf("hook %v: definition in the canvas %v, context bytes %d", hook, sawDef, res[0].ContextBytes)
		}
	}
}

func TestOpenWorkspaceMissingFolder(t *testing.T) {
	if _, err := OpenWorkspace(context.Background(), t.TempDir()+"/nowhere"); err == nil {
		t.Error("OpenWorkspace of a missing folder succeeded")
	}
}
