package dfimtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// FakeEngineTag is the build tag that links the test-only e2efake engine
// (cmd/dfim/e2efake_test_engine.go): `--engine e2efake` answers instantly
// without a model.
const FakeEngineTag = "dfim_e2e_fake"

// Root is the repository root (the folder of go.mod).
func Root() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..")
}

var builds struct {
	sync.Mutex
	byTags map[string]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of a dfim binary built from this checkout with
// the build tags given, building it when this checkout's sources have no
// binary yet. It skips under -short (a build takes seconds) and fails the
// test when the build fails.
func Binary(tb testing.TB, tags ...string) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds the dfim binary; skipped with -short")
	}
	key := strings.Join(tags, ",")
	builds.Lock()
	if builds.byTags == nil {
		builds.byTags = map[string]*build{}
	}
	b := builds.byTags[key]
	if b == nil {
		b = &build{}
		builds.byTags[key] = b
	}
	builds.Unlock()
	b.once.Do(func() { b.path, b.err = buildOnce(tags) })
	if b.err != nil {
		tb.Fatalf("building dfim: %v", b.err)
	}
	return b.path
}

// buildOnce builds cmd/dfim into the shared cache folder under a name made
// from a hash of the sources and the tags, unless that file is there. Test
// binaries of several packages run at once: each builds to a private name
// and renames it into place, so a reader never sees half a binary and two
// builders of the same sources only repeat work.
func buildOnce(tags []string) (string, error) {
	root := Root()
	sum, err := sourceHash(root, tags)
	if err != nil {
		return "", fmt.Errorf("hashing the sources: %w", err)
	}
	cache := filepath.Join(os.TempDir(), "dfim-test-bin")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	exe := filepath.Join(cache, "dfim-"+sum)
	if _, err := os.Stat(exe); err == nil {
		now := time.Now()
		os.Chtimes(exe, now, now) // in use: prune keeps it
		return exe, nil
	}
	prune(cache)
	tmp := fmt.Sprintf("%s.%d.tmp", exe, os.Getpid())
	args := []string{"build", "-o", tmp}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, "./cmd/dfim")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := os.Rename(tmp, exe); err != nil {
		return "", err
	}
	return exe, nil
}

// sourceHash hashes what goes into the binary: every file of the module's
// packages (Go sources and the files they embed) except tests, test data,
// documentation, the trainer and the editor plugins, plus the tags and the
// GOEXPERIMENT the build sees.
func sourceHash(root string, tags []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "tags=%s\nGOEXPERIMENT=%s\n", strings.Join(tags, ","), os.Getenv("GOEXPERIMENT"))
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			switch {
			case path == root:
				return nil
			case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules",
				path == filepath.Join(root, "train"), path == filepath.Join(root, "editors"):
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".md") || !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s\x00", rel)
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// prune removes binaries of other sources that nobody used for a day, so
// the cache holds a few binaries, not one per edit.
func prune(cache string) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			os.Remove(filepath.Join(cache, e.Name()))
		}
	}
}

// NeedTool skips the test when a client it drives is missing (missing
// true), saying what to install; under CI=true, where .ci/run installs
// every such client, it fails instead, so a lost tool never turns a test
// silently green.
func NeedTool(tb testing.TB, missing bool, what string) {
	tb.Helper()
	if !missing {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s (required under CI=true)", what)
	}
	tb.Skip(what)
}
