package remote

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// chatAnswer is a chat completion whose message is content.
func chatAnswer(content string) map[string]any {
	return map[string]any{"id": "chat-1", "object": "chat.completion", "choices": []map[string]any{
		{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}}}
}

func inceptionEditorAt(t *testing.T, endpoint, key string) *inceptionEngine {
	t.Helper()
	t.Setenv(inceptionKeyEnv, "")
	e, err := newInceptionEditor(engine.Config{Endpoint: endpoint, APIKey: key, Timeout: 5 * time.Second}, fastTuning(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// The document of the next-edit tests: the user renamed x to sum on line 6.
const editDoc = "package main\n\nfunc main() {\n\tsum := add(1, 2)\n\ty := add(3, 4)\n\tprintln(x, y)\n}\n"

func editRequestFor(doc string) engine.NextEditRequest {
	start := strings.Index(doc, "\tsum")
	end := strings.Index(doc, "}\n")
	return engine.NextEditRequest{
		Path: "main.go", Text: doc, RegionStart: start, RegionEnd: end, Cursor: start + len("\tsum"),
		History:  []string{"--- main.go\n+++ main.go\n@@ -4,1 +4,1 @@\n-\tx := add(1, 2)\n+\tsum := add(1, 2)\n"},
		Snippets: []engine.Snippet{{Path: "add.go", Text: "func add(a, b int) int { return a + b }"}},
	}
}

func TestInceptionNextEditAsksMercuryEdit(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, chatAnswer("```go\n\tsum := add(1, 2)\n\ty := add(3, 4)\n\tprintln(sum, y)\n```"))
	})
	e := inceptionEditorAt(t, s.URL, "sk-edit")
	var d engine.Denoiser = e
	ne, ok := d.(engine.NextEditor)
	if !ok {
		t.Fatal("the inception engine is no engine.NextEditor")
	}
	got, err := ne.NextEdit(context.Background(), editRequestFor(editDoc))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\tsum := add(1, 2)\n\ty := add(3, 4)\n\tprintln(sum, y)\n"; got != want {
		t.Errorf("region = %q, want %q", got, want)
	}
	if p := s.lastPath(); p != "/v1/edit/completions" {
		t.Errorf("posted to %s, want /v1/edit/completions", p)
	}
	if h := s.lastHeader().Get("Authorization"); h != "Bearer sk-edit" {
		t.Errorf("Authorization = %q, want the key", h)
	}
	body := s.lastBody()
	if body["model"] != inceptionModel || body["stream"] != nil {
		t.Errorf("model %v, stream %v: want %s and no stream", body["model"], body["stream"], inceptionModel)
	}
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("messages = %v, want one user message", body["messages"])
	}
	m := msgs[0].(map[string]any)
	content, _ := m["content"].(string)
	if m["role"] != "user" {
		t.Errorf("role = %v, want user", m["role"])
	}
	// Inception's layout: snippets, the file with its region and cursor, the history, in that order.
	order := []string{
		"<|recently_viewed_code_snippets|>\n<|recently_viewed_code_snippet|>\ncode_snippet_file_path: add.go\nfunc add(a, b int) int { return a + b }\n<|/recently_viewed_code_snippet|>\n",
		"<|/recently_viewed_code_snippets|>\n\n<|current_file_content|>\ncurrent_file_path: main.go\npackage main\n\nfunc main() {\n<|code_to_edit|>\n\tsum<|cursor|> := add(1, 2)\n\ty := add(3, 4)\n\tprintln(x, y)\n<|/code_to_edit|>\n}\n<|/current_file_content|>\n\n",
		"<|edit_diff_history|>\n--- main.go\n+++ main.go\n@@ -4,1 +4,1 @@\n-\tx := add(1, 2)\n+\tsum := add(1, 2)\n\n<|/edit_diff_history|>",
	}
	at := 0
	for _, part := range order {
		i := strings.Index(content[at:], part)
		if i < 0 {
			t.Fatalf("the prompt lacks, after byte %d, %q:\n%s", at, part, content)
		}
		at += i + len(part)
	}
	if !strings.HasSuffix(content, "<|/edit_diff_history|>") {
		t.Errorf("the prompt does not end with the history:\n%s", content)
	}
}

// TestInceptionNextEditKeyStaysOnHost: the edit API is the configured
// endpoint's host, whichever form the endpoint takes, and a redirect to
// another host does not take the key along.
func TestInceptionNextEditKeyStaysOnHost(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, chatAnswer("```\n\tsum := 1\n```")) })
	for _, endpoint := range []string{s.URL, s.URL + "/", s.URL + "/v1", s.URL + "/v1/fim/completions"} {
		e := inceptionEditorAt(t, endpoint, "sk-edit")
		if _, err := e.NextEdit(context.Background(), editRequestFor(editDoc)); err != nil {
			t.Fatalf("endpoint %s: %v", endpoint, err)
		}
		if p, h := s.lastPath(), s.lastHeader().Get("Authorization"); p != "/v1/edit/completions" || h != "Bearer sk-edit" {
			t.Errorf("endpoint %s: posted to %s with Authorization %q; want /v1/edit/completions with the key", endpoint, p, h)
		}
	}

	other := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, chatAnswer("```\nx\n```")) })
	elsewhere := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	redirecting := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, elsewhere+r.URL.Path, http.StatusTemporaryRedirect)
	})
	e := inceptionEditorAt(t, redirecting.URL, "sk-edit")
	if _, err := e.NextEdit(context.Background(), editRequestFor(editDoc)); err != nil {
		t.Fatalf("through a redirect to %s: %v", elsewhere, err)
	}
	if other.hits.Load() == 0 {
		t.Fatalf("the redirect to %s was not followed", elsewhere)
	}
	if h := other.lastHeader().Get("Authorization"); h != "" {
		t.Errorf("the other host got Authorization %q", h)
	}
}

func TestInceptionNextEditErrors(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Error(w, `{"error":{"message":"invalid api key"}}`, http.StatusUnauthorized)
	})
	e := inceptionEditorAt(t, s.URL, "sk-bad")
	_, err := e.NextEdit(context.Background(), editRequestFor(editDoc))
	if err == nil || !strings.Contains(err.Error(), "invalid api key") {
		t.Errorf("a 401: %v; want the server's message", err)
	}
	if err != nil && strings.Contains(err.Error(), "sk-bad") {
		t.Errorf("the error shows the key: %v", err)
	}
	req := editRequestFor(editDoc)
	req.Cursor = len(editDoc)
	if _, err := e.NextEdit(context.Background(), req); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("a cursor outside the region: %v; want an error", err)
	}
}

func TestEditedRegion(t *testing.T) {
	for _, tc := range []struct{ answer, old, want string }{
		{"```go\na := 1\n```", "a := 0\n", "a := 1\n"},
		{"Here it is:\n```\na<|cursor|> := 1\n```\ntrailing", "a := 0\n", "a := 1\n"},
		{"a := 1\n", "a := 0", "a := 1"},
		{"```\n<|code_to_edit|>\na := 1\n<|/code_to_edit|>\n```", "a := 0\n", "a := 1\n"},
		{"", "a := 0\n", "a := 0\n"},
		{"```\n```", "a := 0\n", "a := 0\n"}, // empty: no edit, not a deletion
	} {
		if got := editedRegion(tc.answer, tc.old); got != tc.want {
			t.Errorf("editedRegion(%q, %q) = %q, want %q", tc.answer, tc.old, got, tc.want)
		}
	}
}
