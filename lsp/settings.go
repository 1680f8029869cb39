package lsp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// Settings are what a client may configure, through initializationOptions,
// workspace/didChangeConfiguration (at the top level or under "dfim"), the
// answer to workspace/configuration for section "dfim", or a --config file. JSON names are the keys clients send.
type Settings struct {
	Engine    string `json:"engine"`    // backend name, e.g. "native"
	Model     string `json:"model"`     // GGUF path for the native engine; "" = built-in
	Steps     int    `json:"steps"`     // denoising steps; 0 = engine default
	MaxTokens int    `json:"maxTokens"` // most tokens per completion; 0 = default
	// DebounceMs delays automatic requests (typing); InvokedDebounceMs
	// delays requests the user asked for explicitly.
	DebounceMs        int      `json:"debounceMs"`
	InvokedDebounceMs int      `json:"invokedDebounceMs"`
	Languages         []string `json:"languages"` // languageIds to complete; empty = all
	LogLevel          string   `json:"logLevel"`  // debug, info, warn, error
	// DenoiseSteps streams dfim/denoiseStep notifications while a
	// completion denoises (opt-in: they are chatty).
	DenoiseSteps bool `json:"denoiseSteps"`
}

// DefaultSettings are the settings before any flag or client changes them.
func DefaultSettings() Settings {
	return Settings{Engine: "native", DebounceMs: 50, LogLevel: "info"}
}

func (s Settings) debounce(invoked bool) time.Duration {
	if invoked {
		return time.Duration(s.InvokedDebounceMs) * time.Millisecond
	}
	return time.Duration(s.DebounceMs) * time.Millisecond
}

// completes reports whether documents of languageID are completed.
func (s Settings) completes(languageID string) bool {
	return len(s.Languages) == 0 || slices.Contains(s.Languages, languageID)
}

// A SettingError is one rejected setting; the old value was kept.
type SettingError struct {
	Key   string
	Value string // the raw JSON the client sent
	Msg   string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("dfim setting %q = %s rejected: %s; keeping the previous value", e.Key, e.Value, e.Msg)
}

// Apply returns s with the settings in raw (a JSON object) applied. A key
// with a wrong value is left unchanged and reported in the error (a list of
// *SettingError joined with errors.Join); unknown keys are ignored, so
// clients can share a settings section. engines lists the known engine
// names (nil: any name).
func (s Settings) Apply(raw json.RawMessage, engines []string) (Settings, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return s, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return s, &SettingError{Key: "(settings)", Value: clip(raw), Msg: "not a JSON object"}
	}
	if nested, ok := obj["dfim"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(nested, &inner) == nil {
			obj = inner
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors in a stable order
	var errs []error
	for _, k := range keys {
		v := obj[k]
		if err := s.set(k, v, engines); err != nil {
			errs = append(errs, &SettingError{Key: k, Value: clip(v), Msg: err.Error()})
		}
	}
	return s, errors.Join(errs...)
}

func clip(raw []byte) string {
	if len(raw) > 80 {
		return string(raw[:77]) + "..."
	}
	return string(raw)
}

// set decodes and validates one setting, changing s only when v is valid.
func (s *Settings) set(key string, v json.RawMessage, engines []string) error {
	intIn := func(dst *int, lo, hi int) error {
		var n int
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		if n < lo || n > hi {
			return fmt.Errorf("want a number from %d to %d", lo, hi)
		}
		*dst = n
		return nil
	}
	switch key {
	case "engine":
		var name string
		if err := json.Unmarshal(v, &name); err != nil || name == "" {
			return errors.New("want an engine name")
		}
		if len(engines) > 0 && !slices.Contains(engines, name) {
			return fmt.Errorf("unknown engine; known: %s", strings.Join(engines, ", "))
		}
		s.Engine = name
	case "model":
		var path string
		if err := json.Unmarshal(v, &path); err != nil {
			return errors.New("want a file path, or \"\" for the built-in model")
		}
		if path != "" {
			if st, err := os.Stat(path); err != nil || st.IsDir() {
				return fmt.Errorf("no model file at %s", path)
			}
		}
		s.Model = path
	case "steps":
		return intIn(&s.Steps, 0, 1024)
	case "maxTokens":
		return intIn(&s.MaxTokens, 0, 4096)
	case "debounceMs":
		return intIn(&s.DebounceMs, 0, 5000)
	case "invokedDebounceMs":
		return intIn(&s.InvokedDebounceMs, 0, 5000)
	case "languages":
		var langs []string
		if err := json.Unmarshal(v, &langs); err != nil {
			return errors.New("want a list of languageIds, e.g. [\"go\", \"python\"]")
		}
		s.Languages = langs
	case "logLevel":
		var lvl string
		_ = json.Unmarshal(v, &lvl)
		switch lvl {
		case "debug", "info", "warn", "error":
			s.LogLevel = lvl
		default:
			return errors.New("want debug, info, warn or error")
		}
	case "denoiseSteps":
		var on bool
		if err := json.Unmarshal(v, &on); err != nil {
			return errors.New("want true or false")
		}
		s.DenoiseSteps = on
	}
	return nil
}
