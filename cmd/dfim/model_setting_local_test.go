package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dfim/dfim/lsp"
	"go.uber.org/zap"
)

// TestModelSettingNeverReachesTheHub: an LSP client's model setting is
// resolved from the local cache alone. A name not pulled (a short name of
// the table, a hf: reference, a URL) is an error that says how to pull it,
// and not one request goes to the Hub (HF_ENDPOINT): whoever holds the
// session must not make dfim download gigabytes, or reach a server, by
// naming a model.
func TestModelSettingNeverReachesTheHub(t *testing.T) {
	var requests atomic.Int64
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "the model setting reached the Hub", http.StatusTeapot)
	}))
	defer hub.Close()
	t.Setenv("HF_ENDPOINT", hub.URL)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")

	for _, tc := range []struct{ model, want string }{
		{"open-dcoder-0.5b", "not pulled yet; run dfim model pull open-dcoder-0.5b"},
		{"hf:org/repo", "not pulled yet; run dfim model pull hf:org/repo"},
		{"hf:org/repo/m.gguf", "not pulled yet; run dfim model pull hf:org/repo/m.gguf"},
		{"no-such-model", "dfim model pull"},
		{hub.URL + "/org/repo/resolve/main/m.gguf", ""},
	} {
		raw, _ := json.Marshal(map[string]any{"dfim": map[string]any{"engine": "native", "model": tc.model}})
		set, err := lsp.DefaultSettings().Apply(raw, nil)
		if err != nil {
			if tc.want != "" {
				t.Errorf("the LSP's model setting %q: %v", tc.model, err)
			}
			continue // refused as a setting: nothing to load
		}
		l := &engineLoader{flags: commonFlags{engine: "native"}, log: zap.NewNop(), getenv: os.Getenv}
		_, err = l.load(context.Background(), set)
		l.close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("model setting %q: err %v, want an error saying %q", tc.model, err, tc.want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("model settings made %d requests to the Hub (HF_ENDPOINT), want none", n)
	}
}
