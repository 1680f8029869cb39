package remote

import (
	"errors"
	"fmt"
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
	Hint    string // what the user can do
	Err     error  // underlying cause, if any
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
		return "the server rejected the request: the prompt may be too long for the model, or a setting is out of range"
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
