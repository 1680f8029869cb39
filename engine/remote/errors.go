package remote

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrCircuitOpen is returned without contacting the server while the circuit
// breaker is open: recent calls failed, and waiting on a down server would
// stall typing. errors.Is(err, ErrCircuitOpen) reports it.
var ErrCircuitOpen = errors.New("remote engine unavailable after repeated failures")

// An Error is a failed call to a remote engine. Its message says what
// failed, on which URL, and what the user can do about it. It never holds
// the API key.
type Error struct {
	Backend string // "inception" or "openai"
	URL     string // the URL called (keys never travel in URLs here)
	Status  int    // HTTP status; 0 when no answer came back
	Server  string // the server's own message, trimmed; may be ""
	Type    string // the server's error type, if it said ("invalid_request_error", "not_supported_error", …)
	Hint    string // what the user can do
	Err     error  // underlying cause, if any

	// llama.cpp's exceed_context_size_error says how far over it is.
	promptTokens, contextTokens int
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: POST %s", e.Backend, e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Server != "" {
		fmt.Fprintf(&b, ": %s", e.Server)
	} else if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// circuitError is ErrCircuitOpen with the URL and the time left.
type circuitError struct {
	backend, url string
	left         time.Duration
	last         error // the failure that opened the circuit, if known
}

func (e *circuitError) Error() string {
	msg := fmt.Sprintf("%s: %s failed several times in a row; not calling it again for %s",
		e.backend, e.url, e.left.Round(100*time.Millisecond))
	if e.last != nil {
		msg += "; last failure: " + e.last.Error()
	}
	return msg
}

func (e *circuitError) Unwrap() error { return ErrCircuitOpen }

// hintFor says what the user can do about an error answer, reading the
// server's message where the status alone would mislead (a 400 about the
// model name is not a prompt that is too long).
func hintFor(e *Error, keyEnv string, keySent bool, model, endpointFlag string) string {
	m := strings.ToLower(e.Server)
	switch {
	case modelProblem(e) == "missing":
		return "the server serves several models and needs to be told which: pass --remote-model"
	case modelProblem(e) == "unknown":
		return fmt.Sprintf("the server has no model %q: check --remote-model", model)
	case modelProblem(e) == "not loaded":
		return "the model is not loaded and the server does not load models on demand: load it (POST /models/load) or start llama-server with --models-autoload"
	case contextExceeded(e):
		if e.contextTokens > 0 {
			return fmt.Sprintf("the prompt (%d tokens) does not fit the server's context of %d tokens a slot: start llama-server with a larger -c (it is shared among its --parallel slots)",
				e.promptTokens, e.contextTokens)
		}
		return "the prompt does not fit the server's context: start the server with a larger context size"
	case noFIMTokens(e):
		return noFIMHint
	case e.Status == 400 && strings.Contains(m, "field 'n'"):
		return "the server has fewer slots than the candidates asked for: start llama-server with a larger --parallel, or ask for fewer candidates"
	}
	return hintForStatus(e.Status, keyEnv, keySent, model, endpointFlag)
}

// noFIMHint is what to do about a model without fill-in-the-middle tokens.
const noFIMHint = "the model's GGUF names no fill-in-the-middle tokens (tokenizer.ggml.fim_pre_token_id, fim_suf_token_id, fim_mid_token_id), " +
	"so llama.cpp cannot infill with it: load a FIM-trained code model (e.g. Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama), " +
	"or, if its vocabulary has FIM tokens the file does not name, pass --remote-model with the model's name or set " + templateEnv

// modelProblem reads a refusal of the model name: "missing" (llama.cpp's
// router needs one), "unknown" (no such model), "not loaded", or "".
func modelProblem(e *Error) string {
	if e == nil || (e.Status != 400 && e.Status != 404) {
		return ""
	}
	m := strings.ToLower(e.Server)
	switch {
	case strings.Contains(m, "model name is missing"):
		return "missing"
	case strings.Contains(m, "model is not loaded"):
		return "not loaded"
	case strings.HasPrefix(m, "model '") && strings.HasSuffix(m, "' not found"),
		strings.HasPrefix(m, "model \"") && strings.Contains(m, "not found"), // Ollama
		m == "model is not found",
		strings.Contains(m, "model") && strings.Contains(m, "does not exist"):
		return "unknown"
	}
	return ""
}

// contextExceeded reports llama.cpp's refusal of a prompt longer than a
// slot's context.
func contextExceeded(e *Error) bool {
	if e == nil || e.Status != 400 {
		return false
	}
	m := strings.ToLower(e.Server)
	return e.Type == "exceed_context_size_error" || strings.Contains(m, "exceeds the available context size") ||
		strings.Contains(m, "larger than the max context size")
}

// noFIMTokens reports llama.cpp's /infill refusal of a model without FIM
// tokens ("Infill is not supported by this model: prefix token is missing. …").
func noFIMTokens(e *Error) bool {
	return e != nil && e.Status == http.StatusNotImplemented && strings.Contains(strings.ToLower(e.Server), "infill is not supported")
}

// nRefused reports a server refusing to give several choices in one
// request: llama.cpp caps n at its slots (400 "Field 'n': Value must be
// between 1 <= value <= 1, …"), older ones allow one (500 "Only one
// completion choice is allowed").
func nRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) || !refusal(e) {
		return false
	}
	m := strings.ToLower(e.Server)
	return strings.Contains(m, "field 'n'") || strings.Contains(m, "field 'n_cmpl'") || strings.Contains(m, "completion choice")
}

// hintForStatus says what the user can do about an HTTP error status.
func hintForStatus(status int, keyEnv string, keySent bool, model, endpointFlag string) string {
	switch {
	case status == 401 || status == 403:
		if !keySent {
			return fmt.Sprintf("no API key was sent: set %s", keyEnv)
		}
		return fmt.Sprintf("the API key was rejected: check %s", keyEnv)
	case status == 404:
		if model == "" {
			return fmt.Sprintf("wrong base URL, or the server needs a model name: check %s and pass --remote-model", endpointFlag)
		}
		return fmt.Sprintf("wrong model or base URL: check --remote-model (sent %q) and %s", model, endpointFlag)
	case status == 429:
		return "rate limited: wait a moment, or lower the request rate"
	case status == 400 || status == 422:
		return "the server rejected the request: a setting may be out of range, or the prompt too long for the model"
	case status == 501:
		return "the server does not support this request: check that " + endpointFlag + " points at a FIM API"
	case status >= 500:
		return "the server failed: try again later or check its logs"
	}
	return ""
}

// redact removes the key from text that came back from the server, so a
// server echoing headers cannot leak it into logs. Keys too short to be
// real would only garble the message.
func redact(text, key string) string {
	if len(key) < 8 {
		return text
	}
	return strings.ReplaceAll(text, key, "[redacted]")
}
