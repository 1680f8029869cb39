//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dfim/dfim/infill"
)

// The kill tests run dfim batch in a child process (this test binary again)
// that SIGKILLs itself at one step of a write (crashPoint), for every step
// a run passes, then check what the kill left and what the next run makes
// of it. A kill is no error return: no deferred cleanup runs.

const (
	killEnvDir  = "DFIM_KILL_DIR"  // the tree the child fills
	killEnvAt   = "DFIM_KILL_AT"   // the step to die at, by number (1-based); 0: none
	killEnvLog  = "DFIM_KILL_LOG"  // where the child lists the steps it passed
	killEnvMode = "DFIM_KILL_MODE" // "fill": fill the tree; "check": fill, then --check takes the fills back
)

const (
	killOld    = "package a\n\nfunc f() {\n\t<<fill>>\n}\n\n// a tail longer than the fill, so the write both grows and shrinks files\n"
	killSingle = "package a\n\nfunc g() {\n\t<<fill>>\n}\n"
)

// TestKillChild is the child: it does nothing unless the parent started it.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killEnvDir)
	if dir == "" {
		t.Skip("run by TestKillAtEveryStep")
	}
	at, _ := strconv.Atoi(os.Getenv(killEnvAt))
	logf, err := os.OpenFile(os.Getenv(killEnvLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	writeChunk = 7 // several writes per file, to die half way through one
	crashPoint = func(step string) {
		n++
		fmt.Fprintln(logf, step)
		if n == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	cfg := Config{Filler: killFiller{}}
	if os.Getenv(killEnvMode) == "check" {
		cfg.Check = "false {}"
	}
	if _, err := Run(context.Background(), cfg, []string{dir}); err != nil {
		t.Fatal(err)
	}
}

// killTree is the child's tree: a.go with a second hard link, b.go with
// one name.
func killTree(t *testing.T) string {
	root := tree(t, map[string]string{"a.go": killOld, "b.go": killSingle})
	if err := os.Link(filepath.Join(root, "a.go"), filepath.Join(root, "sub-a.go")); err != nil {
		t.Skip("no hard links here:", err)
	}
	return root
}

// runChild runs the child over root, killed at step at (0: never); it
// returns the steps the child passed and whether it was killed.
func runChild(t *testing.T, root, mode string, at int) (steps []string, killed bool) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "steps")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killEnvDir+"="+root, killEnvAt+"="+strconv.Itoa(at), killEnvLog+"="+logPath, killEnvMode+"="+mode)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			killed = true
		}
	}
	if err != nil && !killed {
		t.Fatalf("child (kill at step %d): %v\n%s", at, err, out)
	}
	b, _ := os.ReadFile(logPath)
	return strings.Fields(string(b)), killed
}

// killFiller fills every hole with "x := 1".
type killFiller struct{}

func (killFiller) Complete(context.Context, infill.Document, int, infill.Options) ([]infill.Suggestion, error) {
	return nil, errors.New("batch fills holes only")
}

func (killFiller) FillHoles(_ context.Context, _ infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
	out := make([]infill.Suggestion, len(holes))
	for i, h := range holes {
		out[i] = infill.Suggestion{Text: "x := 1", Start: h.Start, End: h.End}
	}
	return out, nil
}

// filled is what killFiller makes of a file.
func filled(s string) string { return strings.Replace(s, "<<fill>>", "x := 1", 1) }

func TestKillAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per step")
	}
	for _, mode := range []string{"fill", "check"} {
		steps, killed := runChild(t, killTree(t), mode, 0)
		if killed || len(steps) == 0 {
			t.Fatalf("%s: the child without a kill passed %d steps (killed %v)", mode, len(steps), killed)
		}
		for at := 1; at <= len(steps); at++ {
			name := fmt.Sprintf("%s: killed at step %d (%s)", mode, at, steps[at-1])
			root := killTree(t)
			if _, killed := runChild(t, root, mode, at); !killed {
				t.Fatalf("%s: the child was not killed", name)
			}
			checkAfterKill(t, name, root)
			// The next run finds what the kill left.
			var log bytes.Buffer
			if _, err := Run(context.Background(), Config{Filler: &fakeFiller{refuse: true}, Log: &log}, []string{root}); err != nil {
				t.Fatalf("%s: the next run: %v", name, err)
			}
			checkRecovered(t, name, root, log.String())
		}
	}
}

// checkAfterKill: no name of a file is empty or shorter than the shorter
// of its versions, and each holds one version or a byte-wise mix of the
// two that its backup can undo.
func checkAfterKill(t *testing.T, name, root string) {
	t.Helper()
	for _, f := range []struct{ path, old string }{{"a.go", killOld}, {"sub-a.go", killOld}, {"b.go", killSingle}} {
		got := read(t, filepath.Join(root, f.path))
		new := filled(f.old)
		if len(got) < min(len(f.old), len(new)) {
			t.Errorf("%s: %s is %d bytes, shorter than both its old (%d) and new (%d) versions:\n%q", name, f.path, len(got), len(f.old), len(new), got)
			continue
		}
		if got == f.old || got == new {
			continue
		}
		if f.path == "b.go" || !isMix([]byte(got), []byte(f.old), []byte(new)) {
			t.Errorf("%s: %s holds neither version:\n%q", name, f.path, got)
		}
	}
}

// checkRecovered: after the next run every name holds one whole version,
// the hard link is one file still, its mode is kept, and no leftover
// remains; each leftover found was reported.
func checkRecovered(t *testing.T, name, root, log string) {
	t.Helper()
	a, sub := read(t, filepath.Join(root, "a.go")), read(t, filepath.Join(root, "sub-a.go"))
	if a != killOld && a != filled(killOld) {
		t.Errorf("%s: after the next run a.go holds neither version:\n%q\nlog:\n%s", name, a, log)
	}
	if sub != a {
		t.Errorf("%s: the hard link was broken: a.go %q, sub-a.go %q", name, a, sub)
	}
	if b := read(t, filepath.Join(root, "b.go")); b != killSingle && b != filled(killSingle) {
		t.Errorf("%s: b.go holds neither version: %q", name, b)
	}
	ia, err1 := os.Stat(filepath.Join(root, "a.go"))
	is, err2 := os.Stat(filepath.Join(root, "sub-a.go"))
	if err1 != nil || err2 != nil || !os.SameFile(ia, is) || ia.Mode().Perm() != 0o640 {
		t.Errorf("%s: a.go and sub-a.go are no longer one file of mode 0640 (%v %v)", name, err1, err2)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".dfim-") {
			t.Errorf("%s: %s left after the next run; it said:\n%s", name, e.Name(), log)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if l != "" && !strings.HasPrefix(l, "dfim batch: removed ") {
			t.Errorf("%s: the next run said %q", name, l)
		}
	}
}

// A file of the user's own that looks like a leftover is never touched,
// and a backup of an earlier dfim version (old content only, the file
// truncated) is restored.
func TestLeftoverLookalikesKept(t *testing.T) {
	root := tree(t, map[string]string{
		"a.go":                        "package a\n",
		".a.go.dfim-notes":            "mine",
		".a.go.dfim-12x":              "mine",
		"a.go.dfim-123":               "mine",
		".gone.go.dfim-123":           "no file gone.go: not ours",
		".a.go.dfim-backup-old":       "mine",
		"c.go":                        "",
		".c.go.dfim-backup-123456789": "package c\n\nfunc c() {}\n",
		".a.go.dfim-42":               "package a\n\nx := 1\n",
	})
	var log bytes.Buffer
	if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Log: &log}, []string{root}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{".a.go.dfim-notes", ".a.go.dfim-12x", "a.go.dfim-123", ".gone.go.dfim-123", ".a.go.dfim-backup-old"} {
		if got := read(t, filepath.Join(root, n)); !strings.HasPrefix(got, "mine") && !strings.HasPrefix(got, "no file") {
			t.Errorf("%s changed: %q", n, got)
		}
	}
	for _, n := range []string{".a.go.dfim-42", ".c.go.dfim-backup-123456789"} {
		if _, err := os.Stat(filepath.Join(root, n)); err == nil {
			t.Errorf("%s was left", n)
		}
	}
	if got := read(t, filepath.Join(root, "c.go")); got != "package c\n\nfunc c() {}\n" {
		t.Errorf("c.go, empty with an earlier dfim's backup beside it, was not restored: %q", got)
	}
	if got := log.String(); strings.Count(got, "\n") != 2 || !strings.Contains(got, ".a.go.dfim-42, a temporary file") ||
		!strings.Contains(got, "cut short by the killed run") {
		t.Errorf("want one line for each of the two leftovers, got:\n%s", got)
	}
}

// A backup or temporary file another run still holds (locked) is its own:
// cleaning up leftovers leaves it alone.
func TestLeftoversInUseKept(t *testing.T) {
	root := tree(t, map[string]string{"a.go": "package a\n\nfunc f() {}\n", "b.go": "package b\n"})
	a := filepath.Join(root, "a.go")
	bf, err := writeBackup(a, []byte("package a\n"), []byte("package a\n\nfunc f() {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	tmp, err := os.CreateTemp(root, ".b.go"+tempInfix+"*")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	if !tryLock(tmp) {
		t.Fatal("cannot lock a new file")
	}
	var log bytes.Buffer
	if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Log: &log}, []string{root}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bf.Name(), tmp.Name()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s, in use, was taken: %v", filepath.Base(p), err)
		}
	}
	if got := read(t, a); got != "package a\n\nfunc f() {}\n" || log.Len() != 0 {
		t.Errorf("a.go %q, log %q: want both untouched", got, log.String())
	}
	// Once the other run is gone, they are leftovers.
	bf.Close()
	tmp.Close()
	log.Reset()
	if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Log: &log}, []string{root}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "dfim batch: removed "); n != 2 {
		t.Errorf("want both removed, got:\n%s", log.String())
	}
}

// A dry run says what it would clean up and touches nothing.
func TestLeftoversDryRun(t *testing.T) {
	root := tree(t, map[string]string{"a.go": "package a\n", ".a.go.dfim-7": "package a\n\nvar x = 1\n"})
	var log bytes.Buffer
	if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}, DryRun: true, Log: &log}, []string{root}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".a.go.dfim-7")); err != nil || !strings.Contains(log.String(), "a run without --dry-run removes it") {
		t.Errorf("dry run: %v, said %q", err, log.String())
	}
}
