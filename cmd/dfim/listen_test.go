package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/dfim/dfim/lsp"
)

// lspFrame is one LSP message as sent on the wire.
func lspFrame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

// readFrame reads one LSP message from r.
func readFrame(r *bufio.Reader) (map[string]any, error) {
	n := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(body, &m)
}

// initializeOver sends initialize with initOpts over conn and returns the
// reply.
func initializeOver(t *testing.T, conn net.Conn, initOpts any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize",
		"params": map[string]any{"capabilities": map[string]any{}, "initializationOptions": initOpts}})
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, lspFrame(string(b))); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	for {
		m, err := readFrame(r)
		if err != nil {
			t.Fatalf("reading the reply to initialize: %v", err)
		}
		if m["id"] == float64(1) {
			return m
		}
	}
}

// TestHelperServe is not a test: TestServeListenNeedsToken runs the test
// binary with DFIM_TEST_SERVE_ARGS to get a `dfim serve` process.
func TestHelperServe(t *testing.T) {
	args := os.Getenv("DFIM_TEST_SERVE_ARGS")
	if args == "" {
		t.Skip("only a helper process")
	}
	os.Exit(run(strings.Fields(args), os.Stdout, os.Stderr))
}

// TestServeListenNeedsToken: `serve --listen` with no token given used to
// let any local user in (who could then name any folder and read it in the
// completions). Now it makes up a token, writes it to a file only the user
// can read, names the file on stderr, and refuses a session without it.
func TestServeListenNeedsToken(t *testing.T) {
	runtimeDir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), "DFIM_TEST_SERVE_ARGS=serve --engine copy --listen 127.0.0.1:0",
		"XDG_RUNTIME_DIR="+runtimeDir, tokenEnv+"=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	re := regexp.MustCompile(`token in (\S+serve-(\d+)\.token) as initializationOptions\.token`)
	var path, port string
	timeout := time.After(60 * time.Second)
	for path == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("dfim serve --listen ended without naming a token file")
			}
			if m := re.FindStringSubmatch(line); m != nil {
				path, port = m[1], m[2]
			}
		case <-timeout:
			t.Fatal("dfim serve --listen named no token file on stderr in 60 s")
		}
	}
	go func() {
		for range lines {
		}
	}()
	if filepath.Dir(path) != filepath.Join(runtimeDir, "dfim") {
		t.Errorf("token file %s, want it under $XDG_RUNTIME_DIR/dfim", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	if len(token) < 32 {
		t.Fatalf("token %q is too short", token)
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	for _, opts := range []any{nil, map[string]any{"token": "guess"}} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if m := initializeOver(t, conn, opts); m["result"] != nil || m["error"] == nil {
			t.Errorf("initialize with options %v: %v, want refused", opts, m)
		}
		conn.Close()
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if m := initializeOver(t, conn, map[string]any{"token": token}); m["result"] == nil {
		t.Errorf("initialize with the token from %s: %v, want accepted", path, m)
	}
}

// TestServeTokenFile: the token file is made 0600 in a 0700 folder, kept
// for the next run on the same port (editors configured with it keep
// working), and made anew when it is open to others.
func TestServeTokenFile(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return dir
		}
		return ""
	}
	tok, path, err := serveToken("7777", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "dfim", "serve-7777.token") {
		t.Errorf("token file %s", path)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("token folder mode %v, want 0700", st.Mode().Perm())
	}
	again, _, err := serveToken("7777", getenv)
	if err != nil || again != tok {
		t.Errorf("second run: token %q, %v; want the first one kept", again, err)
	}
	os.Chmod(path, 0o644)
	fresh, _, err := serveToken("7777", getenv)
	if err != nil || fresh == tok {
		t.Errorf("token file readable by others: token %q, %v; want a new one", fresh, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
}

// TestServeListenTokenFlags: --insecure-no-token excludes a token, and
// goes, like --idle-timeout, only with --listen.
func TestServeListenTokenFlags(t *testing.T) {
	key := filepath.Join(t.TempDir(), "token")
	os.WriteFile(key, []byte("s3cret-s3cret\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--insecure-no-token"}, "with --listen"},
		{[]string{"serve", "--idle-timeout", "1m"}, "with --listen"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--insecure-no-token", "--token-file", key}, "--insecure-no-token"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--idle-timeout", "-1s"}, "--idle-timeout"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("dfim %s: exit %d, stderr %q; want a usage error naming %s", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// flakyListener fails its first fails Accepts with err, then hands out
// conns, then blocks until closed.
type flakyListener struct {
	mu     sync.Mutex
	fails  int
	err    error
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	tries  int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.tries++
	if l.fails > 0 {
		l.fails--
		l.mu.Unlock()
		return nil, l.err
	}
	l.mu.Unlock()
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *flakyListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *flakyListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// TestAcceptRetriesTooManyOpenFiles: accept failing with EMFILE used to
// end `serve --listen` and every session with it. It now backs off and
// tries again, and the next client is served.
func TestAcceptRetriesTooManyOpenFiles(t *testing.T) {
	ln := &flakyListener{fails: 4, conns: make(chan net.Conn, 1), closed: make(chan struct{}),
		err: &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serveTCP(ctx, ln, lsp.Options{}, sessionLimits{Idle: time.Hour}, zaptest.NewLogger(t))
	}()
	client, server := net.Pipe()
	defer client.Close()
	ln.conns <- server
	if m := initializeOver(t, client, nil); m["result"] == nil {
		t.Errorf("initialize after accept failed with EMFILE 4 times: %v", m)
	}
	ln.mu.Lock()
	tries := ln.tries
	ln.mu.Unlock()
	if tries < 5 {
		t.Errorf("accept tried %d times, want the 4 failures and then the client", tries)
	}
	client.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveTCP: %v, want nil after it was stopped", err)
	}

	// An error that does not pass still ends it.
	ln = &flakyListener{fails: 1, err: &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EINVAL)},
		conns: make(chan net.Conn), closed: make(chan struct{})}
	if err := serveTCP(context.Background(), ln, lsp.Options{}, sessionLimits{Idle: time.Hour}, zap.NewNop()); err == nil {
		t.Error("serveTCP went on after accept failed with EINVAL")
	}
}

// TestIdleSessionClosed: a TCP session that sends nothing for the idle
// timeout is closed (sessions used to stay forever, holding a file
// descriptor each).
func TestIdleSessionClosed(t *testing.T) {
	conn := dialServeTCP(t, lsp.Options{}, sessionLimits{Idle: 300 * time.Millisecond})
	// Silence: the server must close the connection.
	waitClosed(t, conn, "the idle session was still open after 30 s, with a 300 ms idle timeout")
}

// dialServeTCP serves TCP sessions with opts and limits on a loopback port
// and dials one; the connection closes and the server stops when the test
// ends.
func dialServeTCP(t *testing.T, opts lsp.Options, limits sessionLimits) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveTCP(ctx, ln, opts, limits, zaptest.NewLogger(t))
	}()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads conn until the server closes it, and fails the test with
// stillOpen if it has not after 30 s: that deadline is only how long the
// test waits, far above the timeouts under test.
func waitClosed(t *testing.T, conn net.Conn, stillOpen string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal(stillOpen)
	}
}

// TestUninitializedSessionClosed: a TCP session that does not initialize
// (show the token) within the handshake timeout is closed, instead of
// holding its connection for the whole idle timeout; once initialized, the
// handshake timeout no longer applies.
func TestUninitializedSessionClosed(t *testing.T) {
	conn := dialServeTCP(t, lsp.Options{Token: "s3cret"}, sessionLimits{Idle: time.Hour, Handshake: 300 * time.Millisecond})
	waitClosed(t, conn, "a session that never initialized was still open after 30 s, with a 300 ms handshake timeout")

	// Initialized: the handshake deadline is lifted, also from the read
	// already waiting.
	client, server := net.Pipe()
	defer client.Close()
	ic := newIdleConn(server, sessionLimits{Handshake: time.Second})
	ic.initialized()
	got := make(chan error, 1)
	go func() {
		_, err := ic.Read(make([]byte, 1))
		got <- err
	}()
	time.Sleep(1500 * time.Millisecond) // past the handshake deadline
	client.Write([]byte("x"))
	if err := <-got; err != nil {
		t.Errorf("read of an initialized session after the handshake timeout: %v, want the byte", err)
	}
}
