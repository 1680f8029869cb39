package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// An Executor runs HumanEval tests in python3 for pass@1: the program is
// prompt + completion + suffix + test + check(entry_point), run in a fresh
// temporary folder with a timeout and, as far as the machine allows, no
// network: under `unshare -n` when that works, else with every proxy
// variable pointing at a closed port. It is not a sandbox against hostile
// code; it keeps honest model output from wandering.
type Executor struct {
	Python  string        // interpreter; "" = python3 from PATH
	Timeout time.Duration // per task; 0 = 10 s

	once    sync.Once
	python  string   // resolved interpreter path
	prefix  []string // command that isolates the network, or nil
	initErr error
}

// Program is the Python source Check runs for completion of t.
func Program(t *Task, completion string) string {
	var b strings.Builder
	b.WriteString(t.Prefix)
	b.WriteString(completion)
	b.WriteString(t.Suffix)
	b.WriteString("\n\n")
	b.WriteString(t.Test.Test)
	fmt.Fprintf(&b, "\n\ncheck(%s)\n", t.Test.EntryPoint)
	return b.String()
}

// Check runs t's test on completion and reports whether it passed; detail
// says why not (the last lines python printed, a timeout, a setup error).
func (e *Executor) Check(ctx context.Context, t *Task, completion string) (pass bool, detail string) {
	if t.Test == nil {
		return false, "task has no test"
	}
	e.once.Do(e.setup)
	if e.initErr != nil {
		return false, e.initErr.Error()
	}
	dir, err := os.MkdirTemp("", "dfim-eval-exec-")
	if err != nil {
		return false, fmt.Sprintf("making a temporary folder: %v", err)
	}
	defer os.RemoveAll(dir)
	prog := filepath.Join(dir, "program.py")
	if err := os.WriteFile(prog, []byte(Program(t, completion)), 0o600); err != nil {
		return false, fmt.Sprintf("writing the program: %v", err)
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := append(append([]string(nil), e.prefix...), e.python, "-I", "-B", prog)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = isolatedEnv(dir)
	cmd.WaitDelay = 2 * time.Second // a grandchild holding the pipes must not hang us
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	switch {
	case err == nil:
		return true, ""
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return false, fmt.Sprintf("timed out after %v", timeout)
	default:
		return false, lastLines(out.String(), 3)
	}
}

// setup resolves the interpreter and finds a way to cut the network off.
func (e *Executor) setup() {
	py := e.Python
	if py == "" {
		py = "python3"
	}
	path, err := exec.LookPath(py)
	if err != nil {
		e.initErr = fmt.Errorf("--exec needs %s: %v (install python3 or drop --exec)", py, err)
		return
	}
	// A shim (pyenv) needs the caller's HOME, which test runs do not get:
	// ask the interpreter where it really lives.
	if real, err := exec.Command(path, "-c", "import sys; print(sys.executable)").Output(); err == nil && len(bytes.TrimSpace(real)) > 0 {
		path = string(bytes.TrimSpace(real))
	}
	e.python = path
	if unshare, err := exec.LookPath("unshare"); err == nil {
		// As root -n is enough; elsewhere a user namespace (-r) may allow it.
		for _, p := range [][]string{{unshare, "-n"}, {unshare, "-r", "-n"}} {
			probe := exec.Command(p[0], append(p[1:], path, "-c", "pass")...)
			if probe.Run() == nil {
				e.prefix = p
				return
			}
		}
	}
}

// Isolated reports whether runs are cut off from the network by unshare
// (false: only proxies are disabled). Valid after the first Check.
func (e *Executor) Isolated() bool { return e.prefix != nil }

// isolatedEnv is the environment of a test run: the caller's (an
// interpreter manager such as pyenv needs it) with proxies pointed at a
// closed port, the home in the temporary folder, and hashing fixed.
func isolatedEnv(dir string) []string {
	drop := map[string]bool{"HOME": true, "PYTHONHASHSEED": true, "PYTHONPATH": true, "NO_PROXY": true, "no_proxy": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasSuffix(strings.ToLower(k), "_proxy") {
			continue
		}
		env = append(env, kv)
	}
	const closed = "http://127.0.0.1:9"
	for _, k := range []string{"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"} {
		env = append(env, k+"="+closed)
	}
	return append(env, "HOME="+dir, "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
