package remote

import (
	"os"
	"strings"

	"github.com/dfim/dfim/engine"
)

// Inception's API, as its documentation gives it.
const (
	inceptionBase   = "https://api.inceptionlabs.ai"
	inceptionModel  = "mercury-edit-2" // the FIM model in Inception's model list
	inceptionKeyEnv = "INCEPTION_API_KEY"
)

func init() { engine.Register("inception", openInception) }

func openInception(cfg engine.Config) (engine.Denoiser, error) {
	return newInceptionEditor(cfg, defaultTuning) // FIM, and Mercury Edit for next edits
}

// newInception opens the Mercury FIM engine. The endpoint is a base URL
// (https://api.inceptionlabs.ai, with or without /v1) or the full
// .../fim/completions URL.
func newInception(cfg engine.Config, tune tuning) (*remoteEngine, error) {
	base := cfg.Endpoint
	if base == "" {
		base = inceptionBase
	}
	u, err := parseEndpoint("inception", base, inceptionBase)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasSuffix(u.Path, "/completions"):
	case strings.HasSuffix(u.Path, "/v1"):
		u.Path += "/fim/completions"
	default:
		u.Path += "/v1/fim/completions"
	}
	model := cfg.RemoteModel
	if model == "" {
		model = inceptionModel
	}
	key, fromEnv := cfg.APIKey, false
	if key == "" {
		key, fromEnv = os.Getenv(inceptionKeyEnv), true
	}
	if key != "" {
		if err := keyTransportError("inception", u, inceptionKeyEnv, fromEnv); err != nil {
			return nil, err
		}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	c := newClient("inception", u.String(), u.Redacted(), model, key, inceptionKeyEnv, timeout, tune)
	return &remoteEngine{name: "inception", model: model, shown: u.Redacted(), c: c,
		rt: route{api: apiFIM, to: c.target()}}, nil
}

// fimRequest is the body of POST /v1/fim/completions.
type fimRequest struct {
	Model       string   `json:"model"`
	Prompt      string   `json:"prompt"` // the prefix
	Suffix      string   `json:"suffix"`
	MaxTokens   int      `json:"max_tokens"`
	Stop        []string `json:"stop,omitempty"`
	Stream      bool     `json:"stream"`
	Temperature *float32 `json:"temperature,omitempty"`
	TopP        *float32 `json:"top_p,omitempty"`
}

// fimBody builds Inception's request. Temperature 0 is left to the
// service's default: Mercury is tuned for its own sampling settings.
func (e *remoteEngine) fimBody(cv fimCanvas, o engine.Options, stream bool) fimRequest {
	r := fimRequest{Model: e.model, Prompt: cv.before(), Suffix: cv.suffix, MaxTokens: cv.maxTok,
		Stream: stream, TopP: topP(o)}
	if o.Temperature > 0 {
		t := o.Temperature
		r.Temperature = &t
	}
	return r
}
