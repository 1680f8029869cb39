package lsp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dfim/dfim/infill"
)

// Settings are what a client may configure, through initializationOptions,
// workspace/didChangeConfiguration (at the top level or under "dfim"), the
// answer to workspace/configuration for section "dfim", or a --config file. JSON names are the keys clients send.
type Settings struct {
	Engine    string `json:"engine"`    // backend name, e.g. "native"
	Model     string `json:"model"`     // GGUF path, or a name pulled with dfim model pull (resolved by cmd/dfim), for the native engine; "" = built-in
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
	// Endpoint, RemoteModel and TimeoutMs configure a remote engine
	// (inception, openai): its base URL ("" = the engine's default), the
	// model name it serves, and the per-request timeout (0 = default).
	// Keys come from the environment only, never from settings.
	Endpoint    string `json:"endpoint"`
	RemoteModel string `json:"remoteModel"`
	TimeoutMs   int    `json:"timeoutMs"`
	// RequestTimeoutMs bounds one completion's work (the engine's and the
	// checks'): past it the work stops and the client gets no suggestions.
	// 0 = the default (Settings.requestTimeout).
	RequestTimeoutMs int `json:"requestTimeoutMs"`
	// CrossFileContext puts definitions from other files of the workspace
	// and recently seen code before the prefix (from the workspace index);
	// CrossFileContextBytes caps it.
	CrossFileContext      bool `json:"crossFileContext"`
	CrossFileContextBytes int  `json:"crossFileContextBytes"`
	// CanvasTokens sizes the text sent around the cursor
	// (infill.Options.ContextTokens): 0 = a latency budget per request
	// kind, a few hundred tokens each side; -1 = the whole file, as far as
	// the model's context holds it; N = at most N tokens.
	CanvasTokens int `json:"canvasTokens"`
	// MinConfidence is what a suggestion the user did not ask for needs to
	// be shown: the probability of its least sure token (0 shows every
	// fill). Requests the user invoked show the best fill regardless.
	MinConfidence float64 `json:"minConfidence"`
	// ShowThreshold is what a suggestion the user did not ask for needs
	// from the learned show/hide filter (its probability that the
	// suggestion is right, 0–1; 0 turns the filter off): the successor of
	// MinConfidence, which still applies beside it. Requests the user
	// invoked are not filtered.
	ShowThreshold float64 `json:"showThreshold"`
	// NextEdit turns on next-edit suggestions (textDocument/copilotInlineEdit);
	// nil = the default for the engine (NextEditOn).
	NextEdit *bool `json:"nextEdit"`
}

// NextEditOn reports whether next edits are predicted: as set, else on
// with a remote engine or a pulled/given model, off with the built-in
// model (whose fills add little over the copy of the user's edit).
func (s Settings) NextEditOn() bool {
	if s.NextEdit != nil {
		return *s.NextEdit
	}
	return s.Engine != "native" || s.Model != ""
}

// DefaultCrossFileContextBytes is the default cross-file context budget:
// a few definitions, a small share of the built-in model's window.
const DefaultCrossFileContextBytes = infill.DefaultContextBytes

// DefaultSettings are the settings before any flag or client changes them.
func DefaultSettings() Settings {
	return Settings{Engine: "native", DebounceMs: 50, LogLevel: "info",
		CrossFileContext: true, CrossFileContextBytes: DefaultCrossFileContextBytes,
		MinConfidence: infill.DefaultMinConfidence, ShowThreshold: infill.DefaultShowThreshold}
}

// EngineSettings are the settings that choose an engine: changing any of
// them loads another one. Comparable, so loaders can key on it.
type EngineSettings struct {
	Engine, Model         string
	Endpoint, RemoteModel string
	TimeoutMs             int
}

// EngineSettings returns the settings of s that choose its engine.
func (s Settings) EngineSettings() EngineSettings {
	return EngineSettings{Engine: s.Engine, Model: s.Model, Endpoint: s.Endpoint, RemoteModel: s.RemoteModel, TimeoutMs: s.TimeoutMs}
}

// setEngine replaces the engine-choosing settings of s with e.
func (s *Settings) setEngine(e EngineSettings) {
	s.Engine, s.Model, s.Endpoint, s.RemoteModel, s.TimeoutMs = e.Engine, e.Model, e.Endpoint, e.RemoteModel, e.TimeoutMs
}

// String names the engine for logs and messages, with the endpoint's
// password (if the URL holds one) redacted.
func (e EngineSettings) String() string {
	parts := []string{e.Engine}
	if e.Model != "" {
		parts = append(parts, e.Model)
	}
	if e.Endpoint != "" {
		parts = append(parts, "at "+redactURL(e.Endpoint))
	}
	if e.RemoteModel != "" {
		parts = append(parts, "model "+e.RemoteModel)
	}
	if e.TimeoutMs > 0 {
		parts = append(parts, fmt.Sprintf("timeout %dms", e.TimeoutMs))
	}
	return strings.Join(parts, " ")
}

// redactURL hides the user information and query of a URL (where keys
// hide); a string that does not parse is hidden whole.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an endpoint that is not a URL)"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	if u.RawQuery != "" {
		u.RawQuery = "xxxxx"
	}
	return u.String()
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
	// [] too: Lua clients encode an empty table as an empty array.
	if len(raw) == 0 || string(raw) == "null" || string(bytes.Join(bytes.Fields(raw), nil)) == "[]" {
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
			shown := clip(v)
			if k == "endpoint" {
				// The rejected URL may hold a key: never echo it whole.
				var str string
				if json.Unmarshal(v, &str) == nil {
					shown = mustMarshal(redactURL(str))
				} else {
					shown = "(not a string)"
				}
			}
			errs = append(errs, &SettingError{Key: k, Value: shown, Msg: err.Error()})
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
			return errors.New("want a file path, a name pulled with dfim model pull, or \"\" for the built-in model")
		}
		// A pulled name (open-dcoder-0.5b, hf:ORG/NAME) is resolved by the
		// command line that loads the engine; only paths are checked here.
		if path != "" && !isModelName(path) {
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
		return boolSetting(&s.DenoiseSteps, v)
	case "nextEdit":
		if string(bytes.TrimSpace(v)) == "null" {
			s.NextEdit = nil // back to the engine's default
			return nil
		}
		var on bool
		if err := boolSetting(&on, v); err != nil {
			return err
		}
		s.NextEdit = &on
	case "endpoint":
		var raw string
		if err := json.Unmarshal(v, &raw); err != nil {
			return errors.New(`want the remote engine's base URL, e.g. "http://127.0.0.1:8080", or "" for its default`)
		}
		if raw != "" {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New(`want an http:// or https:// URL with a host, e.g. "http://127.0.0.1:8080", or "" for the engine's default`)
			}
		}
		s.Endpoint = raw
	case "remoteModel":
		var name string
		if err := json.Unmarshal(v, &name); err != nil {
			return errors.New(`want the model name the remote server serves, e.g. "qwen2.5-coder:1.5b", or ""`)
		}
		s.RemoteModel = strings.TrimSpace(name)
	case "timeoutMs":
		return intIn(&s.TimeoutMs, 0, 600000)
	case "requestTimeoutMs":
		return intIn(&s.RequestTimeoutMs, 0, 600000)
	case "crossFileContext":
		return boolSetting(&s.CrossFileContext, v)
	case "crossFileContextBytes":
		return intIn(&s.CrossFileContextBytes, 0, 65536)
	case "canvasTokens":
		return intIn(&s.CanvasTokens, -1, 1<<20)
	case "minConfidence":
		var c float64
		if err := json.Unmarshal(v, &c); err != nil || c < 0 || c > 1 {
			return fmt.Errorf("want a probability from 0 (show every suggestion) to 1; default %g", infill.DefaultMinConfidence)
		}
		s.MinConfidence = c
	case "showThreshold":
		var th float64
		if err := json.Unmarshal(v, &th); err != nil || th < 0 || th > 1 {
			return fmt.Errorf("want a probability from 0 (filter off) to 1; default %g", infill.DefaultShowThreshold)
		}
		s.ShowThreshold = th
	}
	return nil
}

func boolSetting(dst *bool, v json.RawMessage) error {
	var on bool
	if err := json.Unmarshal(v, &on); err != nil {
		return errors.New("want true or false")
	}
	*dst = on
	return nil
}

// isModelName says whether a model setting reads as a name given to
// `dfim model pull` rather than as a file path: hf:ORG/NAME, or a word
// with no path separator and no .gguf ending.
func isModelName(v string) bool {
	if strings.HasPrefix(v, "hf:") {
		return true
	}
	return !strings.ContainsAny(v, `/\`) && !strings.HasSuffix(strings.ToLower(v), ".gguf")
}
