package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/models/hubtest"
	"github.com/dfim/dfim/engine/native/builtin"
	"github.com/dfim/dfim/lsp"
	"go.uber.org/zap"
)

// hubEnv points dfim at a stand-in Hub and a fresh model cache.
func hubEnv(t *testing.T) *hubtest.Server {
	t.Helper()
	srv := hubtest.New()
	t.Cleanup(srv.Close)
	t.Setenv("HF_ENDPOINT", srv.Endpoint())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")
	return srv
}

func goFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.go")
	if err := os.WriteFile(p, []byte("package main\n\nfunc main() {\n\tx := 1\n\t\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestModelPullThenFill: a GGUF file pulled from the stand-in Hub (after
// a connection cut mid-file, resumed) is what `dfim fill --model NAME`
// answers from, the same answer as from the file itself; list shows it,
// and rm removes it.
func TestModelPullThenFill(t *testing.T) {
	data, ok := builtin.Model()
	if !ok {
		t.Skip("this build carries no built-in model to serve")
	}
	srv := hubEnv(t)
	srv.AddFile("dfim-test/tiny", "model.gguf", data, true)
	srv.AddFile("dfim-test/tiny", "README.md", []byte("# tiny"), false)
	srv.CutAfter("model.gguf", int64(len(data)/3))
	const name = "hf:dfim-test/tiny/model.gguf"

	code, _, stderr := runCLI(t, "model", "pull", name)
	if code != exitFailed || !strings.Contains(stderr, "resume") {
		t.Fatalf("pull with a cut: exit %d, stderr %q; want 1 and a word on resuming", code, stderr)
	}
	code, out, stderr := runCLI(t, "model", "pull", name)
	if code != exitOK {
		t.Fatalf("pull: exit %d\n%s", code, stderr)
	}
	path := strings.TrimSpace(strings.TrimPrefix(out, name+"\t"))
	if got, err := os.ReadFile(path); err != nil || len(got) != len(data) {
		t.Fatalf("pulled %q: %d bytes, %v", path, len(got), err)
	}

	code, out, _ = runCLI(t, "model", "list")
	if code != exitOK || !strings.Contains(out, name) {
		t.Errorf("model list: exit %d\n%s", code, out)
	}

	// The same answer from the file and from its name: the engine ran on
	// the pulled file (fill's filter may drop the tiny model's candidate,
	// so the JSON, printed either way, is compared without its latency).
	src := goFile(t)
	pos := src + ":5:2"
	fill := func(model string) (int, fillJSON, string) {
		code, out, stderr := runCLI(t, "fill", "--json", "--model", model, "--seed", "1", pos)
		var j fillJSON
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("fill --model %s: exit %d, stdout %q: %v\n%s", model, code, out, err, stderr)
		}
		j.LatencyMS = 0
		return code, j, stderr
	}
	wantCode, want, _ := fill(path)
	code, got, stderr := fill(name)
	if code != wantCode || !reflect.DeepEqual(got, want) {
		t.Fatalf("fill --model %s: exit %d, %+v; from the file: exit %d, %+v\n%s", name, code, got, wantCode, want, stderr)
	}
	if strings.Contains(stderr, "built-in model") {
		t.Errorf("the built-in model hint with a pulled model: %q", stderr)
	}
	if code, out, stderr := runCLI(t, "model", "info", name); code != exitOK || !strings.Contains(out, path) {
		t.Errorf("model info %s: exit %d\n%s%s", name, code, out, stderr)
	}

	// The editors' model setting: the LSP accepts the name, and the
	// server's engine loader opens the pulled file.
	set, err := lsp.DefaultSettings().Apply(json.RawMessage(`{"dfim":{"engine":"native","model":"`+name+`"}}`), nil)
	if err != nil || set.Model != name {
		t.Fatalf("the LSP's model setting %q: %v (model %q)", name, err, set.Model)
	}
	l := &engineLoader{flags: commonFlags{engine: "native"}, log: zap.NewNop(), getenv: os.Getenv}
	defer l.close()
	if _, err := l.load(context.Background(), set); err != nil {
		t.Fatalf("loading the engine for the model setting %q: %v", name, err)
	}

	if code, _, stderr := runCLI(t, "model", "rm", name); code != exitOK || !strings.Contains(stderr, "removed") {
		t.Fatalf("model rm: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the pulled file is still there after rm")
	}
	code, _, stderr = runCLI(t, "fill", "--model", name, pos)
	if code != exitFailed || !strings.Contains(stderr, "not pulled yet; run dfim model pull "+name) {
		t.Errorf("fill with a removed name: exit %d, %q", code, stderr)
	}
}

// TestFillBuiltinSaysHowToPull: when the built-in model answers, stderr
// (not stdout) names a stronger model to pull.
func TestFillBuiltinSaysHowToPull(t *testing.T) {
	if _, ok := builtin.Model(); !ok {
		t.Skip("no built-in model in this build")
	}
	hubEnv(t)
	code, out, stderr := runCLI(t, "fill", goFile(t)+":5:2")
	if code != exitOK && code != exitFailed {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "dfim model pull open-dcoder-0.5b (about") {
		t.Errorf("stderr %q: no hint", stderr)
	}
	if strings.Contains(out, "model pull") {
		t.Errorf("the hint went to stdout: %q", out)
	}
}

func TestModelPullErrors(t *testing.T) {
	srv := hubEnv(t)
	src := goFile(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"model", "pull"}, exitUsage, "want one REF"},
		{[]string{"model", "pull", "--quant", "q3", "llada-8b"}, exitUsage, "unknown --quant"},
		{[]string{"model", "pull", "no-such-model"}, exitUsage, "open-dcoder-0.5b"},
		{[]string{"model", "pull", "hf:org/absent"}, exitFailed, "404"},
		{[]string{"model", "rm", "nothing"}, exitFailed, "no pulled model"},
		{[]string{"model", "info", "nothing"}, exitFailed, "no model file nothing and no pulled model of that name"},
		{[]string{"fill", "--model", "open-dcoder-0.5b", src + ":5:2"}, exitFailed, "not pulled yet; run dfim model pull open-dcoder-0.5b"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	// Offline: the cache only, and a clear error for what is not in it.
	t.Setenv("HF_HUB_OFFLINE", "1")
	srv.AddFile("org/m", "m.gguf", []byte("GGUF"), true)
	code, _, stderr := runCLI(t, "model", "pull", "hf:org/m/m.gguf")
	if code != exitFailed || !strings.Contains(stderr, "HF_HUB_OFFLINE") {
		t.Errorf("offline pull: exit %d, %q", code, stderr)
	}
	if n := len(srv.Requests()); n != 1 { // the 404 above
		t.Errorf("offline pull reached the Hub: %+v", srv.Requests())
	}
}

// TestModelListAvailable: the short-name table is printed.
func TestModelListAvailable(t *testing.T) {
	code, out, _ := runCLI(t, "model", "list", "--available")
	for _, name := range []string{"open-dcoder-0.5b", "dream-coder-7b", "llada-moe-7b", "fredzzp/open-dcoder-0.5B"} {
		if !strings.Contains(out, name) {
			t.Errorf("exit %d; %s missing:\n%s", code, name, out)
		}
	}
}

// TestModelListJSON: editors read the table and the registry as JSON.
func TestModelListJSON(t *testing.T) {
	hubEnv(t)
	code, out, _ := runCLI(t, "model", "list", "--available", "--json")
	var avail struct {
		Models []struct{ Name, Repo, Size string }
	}
	if err := json.Unmarshal([]byte(out), &avail); err != nil || code != exitOK || len(avail.Models) < 5 ||
		avail.Models[0].Name != "open-dcoder-0.5b" || avail.Models[0].Size != "1.0 GB" {
		t.Errorf("exit %d, %v: %s", code, err, out)
	}
	code, out, _ = runCLI(t, "model", "list", "--json")
	if code != exitOK || strings.TrimSpace(out) != `{"models":[]}` {
		t.Errorf("empty registry: exit %d, %q", code, out)
	}
}
