package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPlanLine reads one plan line as `dfim batch --plan` does: ReadPlan
// must not panic, an entry it accepts must name a path and lines
// 1 <= start <= end, LineRangeHole must stay inside the text, and planPaths
// must accept only paths that resolve inside the root. Run it longer with
// `go test -fuzz FuzzPlanLine -fuzztime 60s ./batch/`.
func FuzzPlanLine(f *testing.F) {
	for _, seed := range []string{
		`{"path":"a.go","start_line":1,"end_line":2}`,
		`{"path":"../outside/victim.go","start_line":1,"end_line":1}`,
		`{"path":"/etc/passwd","start_line":1,"end_line":1}`,
		`{"path":"link.go","start_line":3,"end_line":3}`,
		`{"path":"sub/../a.go","start_line":2,"end_line":9}`,
		`{"path":"a.go","start_line":0,"end_line":-1}`,
		`{"path":"a.go","start_line":1,"end_line":1,"extra":1}`,
		`{"path":"","start_line":1,"end_line":1}`,
		`not json`,
	} {
		f.Add(seed)
	}
	root := f.TempDir()
	os.WriteFile(filepath.Join(root, "a.go"), []byte("package a\n\nfunc f() {\n}\n"), 0o644)
	os.Mkdir(filepath.Join(root, "sub"), 0o755)
	outside := f.TempDir()
	os.WriteFile(filepath.Join(outside, "victim.go"), []byte("package v\n"), 0o644)
	os.Symlink(filepath.Join(outside, "victim.go"), filepath.Join(root, "link.go"))
	os.Symlink(outside, filepath.Join(root, "dirlink"))
	os.WriteFile(filepath.Join(filepath.Dir(outside), "a.go"), []byte("package b\n"), 0o644)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		f.Fatal(err)
	}
	const text = "package a\n\nfunc f() {\n\tx()\n}\n"
	f.Fuzz(func(t *testing.T, line string) {
		entries, _ := ReadPlan("plan.jsonl", strings.NewReader(line))
		for _, e := range entries {
			if e.Path == "" || e.StartLine < 1 || e.EndLine < e.StartLine {
				t.Fatalf("accepted %+v from %q", e, line)
			}
			if h, err := LineRangeHole(text, e.StartLine, e.EndLine); err == nil && (h.Start < 0 || h.End > len(text) || h.Start > h.End) {
				t.Fatalf("hole %+v outside the %d-byte text for %+v", h, len(text), e)
			}
			// Relative plan paths are taken from the root, as from a run there.
			if !filepath.IsAbs(e.Path) {
				e.Path = root + string(filepath.Separator) + e.Path // not cleaned, as a run would see it
			}
			plan := []PlanEntry{e}
			if planPaths(plan, []string{root}) != nil {
				continue
			}
			p, err := realPath(plan[0].Path)
			if err != nil || !within(p, realRoot) {
				t.Fatalf("plan path %q accepted, but it resolves to %q (%v), outside %s", e.Path, p, err, realRoot)
			}
			// The kernel's reading of the path as written must be the file checked.
			if orig, err := os.Stat(e.Path); err == nil {
				if got, err := os.Stat(plan[0].Path); err != nil || !os.SameFile(orig, got) {
					t.Fatalf("plan path %q opens another file than the %q checked", e.Path, plan[0].Path)
				}
			}
		}
	})
}
