package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/internal/dfimtest"
)

// The tests in this file call the server with real clients: dfim's own
// remote engines (through the dfim binary, against `dfim serve --http`),
// curl, and the official OpenAI JavaScript SDK under node. Without node
// and its node_modules they skip, except under CI=true, where they fail;
// without curl (which .ci/run does not install) the curl test skips.

// buildDfim is the dfim binary under test.
func buildDfim(t *testing.T) string { return dfimtest.Binary(t) }

// startServe runs `dfim serve --http 127.0.0.1:0` with args and returns
// its base URL.
func startServe(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(cfg, []byte(`{"minConfidence": 0}`), 0o644)
	cmd := exec.Command(bin, append([]string{"serve", "--http", "127.0.0.1:0", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "serve.log")}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" {
				addr <- m
			}
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(60 * time.Second):
		t.Fatal("dfim serve --http did not say its address within 60s")
	}
	return ""
}

// TestDfimFillThroughServer: dfim's own remote engines (Inception's API,
// OpenAI's with suffix, llama.cpp's /infill) fill through `dfim serve
// --http` running the built-in model.
func TestDfimFillThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	bin := buildDfim(t)
	base := startServe(t, bin)
	// examples/stack.go with Push turned into Size() int: the built-in
	// model's `return len(s.items)` compiles there (in Push it would not,
	// and dfim fill rightly shows nothing).
	src, err := os.ReadFile("../../examples/stack.go")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "stack.go")
	sized := strings.Replace(string(src), "func (s *Stack) Push(v int) {", "func (s *Stack) Size() int {", 1)
	if err := os.WriteFile(file, []byte(sized), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ engine, endpoint string }{
		{"inception", base},
		{"openai", base},
		{"openai", base + "/v1"},
		{"openai", base + "/infill"},
	} {
		cmd := exec.Command(bin, "fill", "--json", "--engine", tc.engine, "--endpoint", tc.endpoint, "--timeout", "60s", file+":11:1")
		cmd.Env = withoutKeys(os.Environ())
		out, err := cmd.Output()
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		var v struct {
			Text       string   `json:"text"`
			Candidates []string `json:"candidates"`
		}
		if jerr := json.Unmarshal(out, &v); jerr != nil || err != nil || v.Text == "" {
			t.Errorf("dfim fill --engine %s --endpoint %s: %v %s\nstdout %s", tc.engine, tc.endpoint, err, stderr, out)
		}
	}
	// What the server counted: every API was called.
	resp, err := httpGet(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{"/v1/fim/completions", "/v1/completions", "/infill"} {
		if !strings.Contains(resp, `dfim_http_requests_total{endpoint="`+ep+`",code="200"}`) {
			t.Errorf("/metrics counts no answered %s:\n%s", ep, resp)
		}
	}
}

// withoutKeys drops the remote engines' API keys from env: the server
// takes none, and a key must not go to a test server.
func withoutKeys(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "INCEPTION_API_KEY=") && !strings.HasPrefix(kv, "OPENAI_API_KEY=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestCurl: curl, whole and streamed, and a malformed body.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	dfimtest.NeedTool(t, err != nil, "curl not found on PATH (Debian: apt-get install curl)")
	srv := newBuiltinServer(t, Options{})
	body := fmt.Sprintf(`{"prompt":%s,"suffix":%s,"max_tokens":24,"language":"go","min_confidence":0}`, jsonString(goPrompt), jsonString(goSuffix))
	out, err := exec.Command(curl, "-sS", "-H", "Content-Type: application/json", "-d", body, srv.URL+"/v1/fim/completions").Output()
	var v completionJSON
	if err != nil || json.Unmarshal(out, &v) != nil || len(v.Choices) != 1 || v.Choices[0].Text == "" {
		t.Errorf("curl: %v %s", err, out)
	}
	stream := strings.Replace(body, `"max_tokens":24`, `"max_tokens":24,"stream":true`, 1)
	out, err = exec.Command(curl, "-sS", "-N", "-d", stream, srv.URL+"/v1/completions").Output()
	if err != nil || !strings.Contains(string(out), "data: {") || !strings.HasSuffix(string(out), "data: [DONE]\n\n") {
		t.Errorf("curl stream: %v %q", err, out)
	}
	out, err = exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-d", `{"input_prefix":`, srv.URL+"/infill").Output()
	if err != nil || string(out) != "400" {
		t.Errorf("curl malformed: %v %q, want 400", err, out)
	}
}

// TestOpenAIJavaScriptSDK: the official OpenAI SDK for JavaScript
// (npm's openai) calls completions.create with suffix, whole and
// streamed, gets OpenAI's error classes for a bad request and a wrong
// key, and lists the models.
func TestOpenAIJavaScriptSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	node, err := exec.LookPath("node")
	dfimtest.NeedTool(t, err != nil, "node not found on PATH")
	_, err = os.Stat("../testdata/e2e/node_modules/openai")
	dfimtest.NeedTool(t, err != nil, "node_modules missing: run `npm ci --prefix lsp/testdata/e2e`")
	srv := newBuiltinServer(t, Options{APIKey: "sk-dfim-test"})
	out, err := exec.Command(node, "../testdata/e2e/openai_fim.js", srv.URL, "sk-dfim-test").Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node: %v\n%s%s", err, out, stderr)
	}
	var r struct {
		OK           bool   `json:"ok"`
		Object       string `json:"object"`
		Text         string `json:"text"`
		Finish       string `json:"finish"`
		Streamed     string `json:"streamed"`
		StreamFinish string `json:"streamFinish"`
		Chunks       int    `json:"chunks"`
		Bad          struct {
			Status  int    `json:"status"`
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"bad"`
		Auth struct {
			Status int    `json:"status"`
			Name   string `json:"name"`
		} `json:"auth"`
		Models []string `json:"models"`
	}
	if err := json.Unmarshal(out, &r); err != nil || !r.OK {
		t.Fatalf("report %s: %v", out, err)
	}
	if r.Object != "text_completion" || r.Text == "" || r.Finish == "" {
		t.Errorf("completions.create: %+v", r)
	}
	if r.Streamed != r.Text || r.StreamFinish == "" || r.Chunks < 2 {
		t.Errorf("streamed %q (finish %q, %d chunks), want the same fill as whole (%q)", r.Streamed, r.StreamFinish, r.Chunks, r.Text)
	}
	if r.Bad.Status != 400 || r.Bad.Type != typeInvalid || !strings.Contains(r.Bad.Message, "prompt") {
		t.Errorf("bad request: %+v, want a 400 BadRequestError about the prompt", r.Bad)
	}
	if r.Auth.Status != 401 || r.Auth.Name != "AuthenticationError" {
		t.Errorf("wrong key: %+v, want a 401 AuthenticationError", r.Auth)
	}
	if len(r.Models) != 1 || r.Models[0] != "dfim" {
		t.Errorf("models %v", r.Models)
	}
}
