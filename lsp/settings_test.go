package lsp

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSettingsApply(t *testing.T) {
	model := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(model, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := DefaultSettings()
	got, err := base.Apply(json.RawMessage(`{"engine":"openai","model":`+mustJSON(model)+`,"steps":8,"maxTokens":64,
		"debounceMs":10,"invokedDebounceMs":5,"languages":["go"],"logLevel":"debug","denoiseSteps":true,"other":1,
		"endpoint":"http://127.0.0.1:8080/infill","remoteModel":" qwen2.5-coder:1.5b ","timeoutMs":2500,
		"crossFileContext":false,"crossFileContextBytes":800,"minConfidence":0.25,"showThreshold":0.3}`),
		[]string{"native", "openai"})
	if err != nil {
		t.Fatalf("valid settings rejected: %v", err)
	}
	want := Settings{Engine: "openai", Model: model, Steps: 8, MaxTokens: 64, DebounceMs: 10, InvokedDebounceMs: 5,
		Languages: []string{"go"}, LogLevel: "debug", DenoiseSteps: true,
		Endpoint: "http://127.0.0.1:8080/infill", RemoteModel: "qwen2.5-coder:1.5b", TimeoutMs: 2500,
		CrossFileContext: false, CrossFileContextBytes: 800, MinConfidence: 0.25, ShowThreshold: 0.3}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestSettingsRejectKeepsOld(t *testing.T) {
	base := DefaultSettings()
	base.Steps = 4
	got, err := base.Apply(json.RawMessage(`{"dfim":{"steps":-1,"engine":"nope","model":"/no/such.gguf","logLevel":"loud",
		"debounceMs":"fast","languages":"go","maxTokens":12,"minConfidence":1.5}}`), []string{"native"})
	var se *SettingError
	if !errors.As(err, &se) {
		t.Fatalf("want SettingErrors, got %v", err)
	}
	want := base
	want.MaxTokens = 12 // the one valid value
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, key := range []string{"steps", "engine", "model", "logLevel", "debounceMs", "languages", "minConfidence"} {
		found := false
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			if e.(*SettingError).Key == key {
				found = true
			}
		}
		if !found {
			t.Errorf("no error for %q in %v", key, err)
		}
	}
	if _, err := base.Apply(json.RawMessage(`[1]`), nil); err == nil {
		t.Error("non-object settings accepted")
	}
	if s, err := base.Apply(nil, nil); err != nil || !reflect.DeepEqual(s, base) {
		t.Error("empty settings changed something")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestRemoteEngineSettingsValidated(t *testing.T) {
	base := DefaultSettings()
	base.Endpoint = "https://api.example.com"
	for _, bad := range []string{`{"endpoint":"ftp://x"}`, `{"endpoint":"localhost:8080"}`, `{"endpoint":"http://"}`,
		`{"endpoint":3}`, `{"remoteModel":false}`, `{"timeoutMs":-5}`, `{"timeoutMs":600001}`,
		`{"crossFileContext":"yes"}`, `{"crossFileContextBytes":-1}`} {
		got, err := base.Apply(json.RawMessage(bad), nil)
		var se *SettingError
		if !errors.As(err, &se) {
			t.Errorf("%s accepted", bad)
			continue
		}
		if !reflect.DeepEqual(got, base) {
			t.Errorf("%s changed the settings to %+v", bad, got)
		}
	}
	got, err := base.Apply(json.RawMessage(`{"endpoint":"","timeoutMs":0}`), nil)
	if err != nil || got.Endpoint != "" || got.TimeoutMs != 0 {
		t.Errorf("empty endpoint and zero timeout (the defaults) rejected: %+v, %v", got, err)
	}
}

func TestEndpointKeyNeverEchoed(t *testing.T) {
	const secret = "sk-SECRET123"
	_, err := DefaultSettings().Apply(json.RawMessage(`{"endpoint":"ftp://user:`+secret+`@host/x?key=`+secret+`"}`), nil)
	if err == nil {
		t.Fatal("ftp endpoint accepted")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("setting error shows the key: %v", err)
	}
	e := EngineSettings{Engine: "openai", Endpoint: "https://u:" + secret + "@h/v1?api_key=" + secret, RemoteModel: "m", TimeoutMs: 10}
	if s := e.String(); strings.Contains(s, secret) || !strings.Contains(s, "h/v1") || !strings.Contains(s, "model m") {
		t.Errorf("EngineSettings.String() = %q: want the host and model, never the key", s)
	}
}

func TestEngineSettingsCoverEveryEngineKey(t *testing.T) {
	a := DefaultSettings()
	for _, change := range []string{`{"engine":"openai"}`, `{"endpoint":"http://h:1"}`, `{"remoteModel":"m"}`, `{"timeoutMs":9}`} {
		b, err := a.Apply(json.RawMessage(change), nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.EngineSettings() == b.EngineSettings() {
			t.Errorf("%s does not change EngineSettings, so it would not reload the engine", change)
		}
		var c Settings
		c.setEngine(b.EngineSettings())
		if c.EngineSettings() != b.EngineSettings() {
			t.Errorf("setEngine lost part of %+v", b.EngineSettings())
		}
	}
}

// TestEmptyArrayIsNoSettings: Neovim's Lua encodes an empty settings table
// as [], which used to be rejected as "not a JSON object" at every start.
func TestEmptyArrayIsNoSettings(t *testing.T) {
	base := DefaultSettings()
	for _, raw := range []string{`[]`, ` [ ] `, `null`, `{}`} {
		got, err := base.Apply(json.RawMessage(raw), nil)
		if err != nil || !reflect.DeepEqual(got, base) {
			t.Errorf("settings %s: %+v, %v; want no change and no error", raw, got, err)
		}
	}
	if _, err := base.Apply(json.RawMessage(`[1]`), nil); err == nil {
		t.Error("a non-empty array accepted as settings")
	}
}
