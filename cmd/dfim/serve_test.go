package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/lsp"
)

// TestClientEndpointGetsNoKey: an endpoint named by the editor's settings
// (workspace/didChangeConfiguration can name any URL) must never receive
// the API key from the environment; the endpoint the user gave with
// --endpoint may, and so may a host the user listed in DFIM_KEY_HOSTS.
func TestClientEndpointGetsNoKey(t *testing.T) {
	const secret = "sk-SECRET-14"
	t.Setenv("INCEPTION_API_KEY", secret)
	t.Setenv(keyHostsEnv, "")
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()
	evil := srv.URL + "/evil"

	// try loads the engine for endpoint and asks it for one completion; it
	// reports whether the server saw the key.
	try := func(l *engineLoader, endpoint string) (error, bool) {
		t.Helper()
		mu.Lock()
		auth = nil
		mu.Unlock()
		set := lsp.DefaultSettings()
		set.Engine, set.Endpoint, set.TimeoutMs = "inception", endpoint, 2000
		c, err := l.load(context.Background(), set)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.Complete(ctx, infill.Document{Path: "a.go", Text: "package a\n\nfunc f() {\n\t\n}\n"}, 23, infill.Options{})
			cancel()
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range auth {
			if strings.Contains(a, secret) {
				return err, true
			}
		}
		return err, false
	}

	l := &engineLoader{flags: commonFlags{engine: "native"}, log: zap.NewNop()}
	defer l.close()
	err, leaked := try(l, evil)
	if leaked {
		t.Fatalf("the key went to an endpoint set by the client")
	}
	if err == nil || !strings.Contains(err.Error(), "INCEPTION_API_KEY") || strings.Contains(err.Error(), secret) {
		t.Errorf("loading a client's endpoint with a key in the environment: %v, want a refusal naming the variable (not the key)", err)
	}

	user := &engineLoader{flags: commonFlags{engine: "inception", endpoint: evil}, log: zap.NewNop(), userEndpoint: evil}
	defer user.close()
	if err, leaked := try(user, evil); err != nil || !leaked {
		t.Errorf("the user's own --endpoint: err %v, key sent %v; want it loaded and the key sent", err, leaked)
	}

	t.Setenv(keyHostsEnv, "example.org, "+strings.TrimPrefix(srv.URL, "http://"))
	allowed := &engineLoader{flags: commonFlags{engine: "native"}, log: zap.NewNop()}
	defer allowed.close()
	if err, leaked := try(allowed, evil); err != nil || !leaked {
		t.Errorf("a host the user listed in %s: err %v, key sent %v; want it allowed", keyHostsEnv, err, leaked)
	}

	if err := (&engineLoader{userEndpoint: "http://10.1.2.3:8080"}).keyGuard(lsp.EngineSettings{Engine: "inception", Endpoint: "http://10.1.2.3:8080"}); err == nil {
		t.Error("the key would go over plain http to another machine")
	}
	t.Setenv("INCEPTION_API_KEY", "")
	if err := l.keyGuard(lsp.EngineSettings{Engine: "inception", Endpoint: evil}); err != nil {
		t.Errorf("without a key any endpoint may be used: %v", err)
	}
}

// TestListenLoopbackUnlessAllowed: `serve --listen :PORT` used to listen
// on every interface. A port alone binds loopback; an address other
// machines can reach is a usage error without --allow-remote.
func TestListenLoopbackUnlessAllowed(t *testing.T) {
	ln, public, err := listenTCP(":0", false)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	if !addr.IP.IsLoopback() || public {
		t.Errorf("--listen :0 bound %v (public %v), want loopback", addr, public)
	}
	for _, a := range []string{"0.0.0.0:0", "[::]:0"} {
		if ln, _, err := listenTCP(a, false); err == nil {
			ln.Close()
			t.Errorf("--listen %s without --allow-remote was accepted", a)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("--listen %s: %v, want a usage error", a, err)
		}
	}
	ln, public, err = listenTCP("0.0.0.0:0", true)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if !public {
		t.Error("0.0.0.0 with --allow-remote not reported as public")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--engine", "filltest", "--listen", "0.0.0.0:0"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("dfim serve --listen 0.0.0.0:0: exit %d, want 2; stderr %s", code, stderr.String())
	}
	if code := run([]string{"serve", "--engine", "filltest", "--token-file", "x"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--token-file without --listen: exit %d, want 2", code)
	}
}

// TestClientEndpointGetsNoCodeUnlessAllowed: without an API key, an
// endpoint named by the editor's settings used to get every prompt (the
// user's code, and files of the workspace as cross-file context) wherever
// it pointed. Now it may be only the user's own endpoint (--endpoint,
// --config), one on this machine, or a host listed in DFIM_KEY_HOSTS.
func TestClientEndpointGetsNoCodeUnlessAllowed(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	const far = "https://collector.example.net/v1"
	l := &engineLoader{log: zap.NewNop(), getenv: getenv}
	for _, engine := range []string{"inception", "openai"} {
		err := l.keyGuard(lsp.EngineSettings{Engine: engine, Endpoint: far})
		if err == nil || !strings.Contains(err.Error(), keyHostsEnv) {
			t.Errorf("%s: a client's endpoint on another machine, no key: %v; want refused, naming %s", engine, err, keyHostsEnv)
		}
		for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:11434/v1", "http://[::1]:8080", ""} {
			if err := l.keyGuard(lsp.EngineSettings{Engine: engine, Endpoint: ok}); err != nil {
				t.Errorf("%s: client's endpoint %q on this machine, no key: %v; want allowed", engine, ok, err)
			}
		}
	}
	if err := (&engineLoader{getenv: getenv, userEndpoint: far}).keyGuard(lsp.EngineSettings{Engine: "openai", Endpoint: far}); err != nil {
		t.Errorf("the user's own --endpoint: %v; want allowed", err)
	}
	env[keyHostsEnv] = "collector.example.net"
	if err := l.keyGuard(lsp.EngineSettings{Engine: "openai", Endpoint: far}); err != nil {
		t.Errorf("a host listed in %s: %v; want allowed", keyHostsEnv, err)
	}
	if err := l.keyGuard(lsp.EngineSettings{Engine: "native", Endpoint: far}); err != nil {
		t.Errorf("the native engine sends nothing anywhere: %v", err)
	}
}

// TestModelSettingEchoesNoBytes: a model setting naming a file that is no
// model (a client can name any file) is refused without a byte of it in
// the message; the message used to quote its first four.
func TestModelSettingEchoesNoBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(path, []byte("PASSWORD=hunter2 and enough bytes for a header\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &engineLoader{flags: commonFlags{engine: "native"}, log: zap.NewNop()}
	defer l.close()
	set := lsp.DefaultSettings()
	set.Engine, set.Model = "native", path
	_, err := l.load(context.Background(), set)
	if err == nil || !strings.Contains(err.Error(), "not a GGUF model file") || strings.Contains(err.Error(), "PASS") {
		t.Errorf("loading a model setting naming a secrets file: %v; want \"not a GGUF model file\" and none of its bytes", err)
	}
}
