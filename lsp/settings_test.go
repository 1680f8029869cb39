package lsp

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSettingsApply(t *testing.T) {
	model := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(model, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := DefaultSettings()
	got, err := base.Apply(json.RawMessage(`{"engine":"openai","model":`+mustJSON(model)+`,"steps":8,"maxTokens":64,
		"debounceMs":10,"invokedDebounceMs":5,"languages":["go"],"logLevel":"debug","denoiseSteps":true,"other":1}`),
		[]string{"native", "openai"})
	if err != nil {
		t.Fatalf("valid settings rejected: %v", err)
	}
	want := Settings{Engine: "openai", Model: model, Steps: 8, MaxTokens: 64, DebounceMs: 10, InvokedDebounceMs: 5,
		Languages: []string{"go"}, LogLevel: "debug", DenoiseSteps: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestSettingsRejectKeepsOld(t *testing.T) {
	base := DefaultSettings()
	base.Steps = 4
	got, err := base.Apply(json.RawMessage(`{"dfim":{"steps":-1,"engine":"nope","model":"/no/such.gguf","logLevel":"loud",
		"debounceMs":"fast","languages":"go","maxTokens":12}}`), []string{"native"})
	var se *SettingError
	if !errors.As(err, &se) {
		t.Fatalf("want SettingErrors, got %v", err)
	}
	want := base
	want.MaxTokens = 12 // the one valid value
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, key := range []string{"steps", "engine", "model", "logLevel", "debounceMs", "languages"} {
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
