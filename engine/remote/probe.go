package remote

import (
	"context"
	"encoding/json"
	"net/url"
	"path"
	"strings"
	"time"
)

// What answers at an openai endpoint decides how the suffix reaches the
// model: llama.cpp's /v1/completions drops the suffix field without a
// word (200, the same prompt_tokens with it or without), vLLM and SGLang
// refuse it, Ollama honours it. So the engine looks once: llama.cpp
// answers GET /props (and names itself in every answer's Server header and
// as owned_by "llamacpp" in /v1/models); vLLM and SGLang name themselves
// in /v1/models, whose max_model_len is their context.

// A flavor is the kind of server, as far as filling holes goes.
type flavor int

const (
	flavorOpenAI   flavor = iota // OpenAI-style, unknown: send suffix, learn from a refusal
	flavorLlamaCpp               // llama.cpp's llama-server: /infill
	flavorNoSuffix               // vLLM, SGLang: refuse suffix, take the model's FIM template
)

// serverInfo is what the server said about itself.
type serverInfo struct {
	flavor flavor
	name   string   // for logs: "llama.cpp b1-de3ff81", "vllm"; "" = unknown
	nCtx   int      // tokens a request may hold (llama.cpp: per slot); 0 = unknown
	model  string   // the model it says it runs ("" = not said)
	models []string // the models it offers, where it offers several
	router bool     // llama.cpp's router mode: requests must name a model
}

const (
	// probeTimeout bounds one look at the server: it runs before the first
	// completion, and a server that does not answer it will not answer
	// that either.
	probeTimeout = 3 * time.Second
	// probeEvery spaces looks at a server that did not answer (down, or
	// still loading its model).
	probeEvery = 10 * time.Second
)

// propsJSON is the part of llama.cpp's GET /props that dfim reads. The
// per-slot context is default_generation_settings.n_ctx (older servers
// put the whole slot there, n_ctx among it); a router answers role
// "router" and n_ctx 0, and GET /props?model=NAME answers for one model.
type propsJSON struct {
	DefaultGenerationSettings *struct {
		NCtx int `json:"n_ctx"`
	} `json:"default_generation_settings"`
	ModelAlias json.RawMessage `json:"model_alias"`
	ModelPath  string          `json:"model_path"`
	Role       string          `json:"role"`
	BuildInfo  string          `json:"build_info"`
}

// modelsJSON is the part of GET /v1/models that dfim reads: llama.cpp
// puts its per-slot context in meta.n_ctx, vLLM and SGLang theirs in
// max_model_len.
type modelsJSON struct {
	Data []struct {
		ID          string `json:"id"`
		OwnedBy     string `json:"owned_by"`
		MaxModelLen int    `json:"max_model_len"`
		Meta        *struct {
			NCtx int `json:"n_ctx"`
		} `json:"meta"`
	} `json:"data"`
}

// serverRoot is the server's base URL for an openai endpoint: the path
// without the API it names (…/infill, …/v1/completions, …/completions,
// …/v1), so a server behind a path prefix keeps it.
func serverRoot(u *url.URL) *url.URL {
	r := *u
	for _, s := range []string{"/infill", "/v1/completions", "/completions", "/v1"} {
		if strings.HasSuffix(r.Path, s) {
			r.Path = strings.TrimSuffix(r.Path, s)
			break
		}
	}
	r.RawQuery, r.Fragment = "", ""
	return &r
}

// probe asks the server what it is. answered is false when no useful
// answer came (no connection, or llama.cpp still loading its model): the
// engine asks again later.
func (e *remoteEngine) probe(ctx context.Context) (info serverInfo, answered bool) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var p propsJSON
	status, hdr, err := e.c.ask(ctx, e.root.url+"/props", nil, &p)
	if status == 0 {
		return info, false
	}
	answered = status != 503 // llama.cpp answers 503 "Loading model" to everything until it is ready
	isProps := status == 200 && err == nil && p.DefaultGenerationSettings != nil
	if hdr.Get("Server") == "llama.cpp" || isProps {
		info.flavor, info.name = flavorLlamaCpp, strings.TrimSpace("llama.cpp "+p.BuildInfo)
	}
	if isProps {
		info.nCtx = p.DefaultGenerationSettings.NCtx
		info.model = propsModel(p)
		info.router = p.Role == "router"
	}
	if info.router {
		info.model = e.model
		if e.model != "" {
			// Ask the model's own server, without loading it: a completion
			// would load it, a look should not.
			var mp propsJSON
			q := url.Values{"model": {e.model}, "autoload": {"false"}}
			if st, _, err := e.c.ask(ctx, e.root.url+"/props?"+q.Encode(), nil, &mp); st == 200 && err == nil && mp.DefaultGenerationSettings != nil {
				info.nCtx = mp.DefaultGenerationSettings.NCtx
			}
		}
	}
	if info.flavor == flavorLlamaCpp && !info.router {
		return info, answered
	}
	var m modelsJSON
	if st, _, err := e.c.ask(ctx, e.root.url+"/v1/models", nil, &m); st != 200 || err != nil {
		return info, answered || st != 0
	}
	answered = true
	for i, d := range m.Data {
		info.models = append(info.models, d.ID)
		switch d.OwnedBy {
		case "llamacpp":
			info.flavor, info.name = flavorLlamaCpp, "llama.cpp"
		case "vllm", "sglang":
			info.flavor, info.name = flavorNoSuffix, d.OwnedBy
		}
		if info.router || !(i == 0 || d.ID == e.model) {
			continue
		}
		info.model = d.ID
		switch {
		case d.MaxModelLen > 0:
			info.nCtx = d.MaxModelLen
		case d.Meta != nil && d.Meta.NCtx > 0:
			info.nCtx = d.Meta.NCtx
		}
	}
	if info.name == "" && len(m.Data) > 0 && m.Data[0].OwnedBy != "" {
		info.name = m.Data[0].OwnedBy
	}
	return info, answered
}

// propsModel is the model /props names: its alias, or its file's name.
func propsModel(p propsJSON) string {
	var alias string
	if json.Unmarshal(p.ModelAlias, &alias) == nil && alias != "" && alias != "llama-server" {
		return alias
	}
	if p.ModelPath != "" && p.ModelPath != "none" {
		return path.Base(strings.ReplaceAll(p.ModelPath, `\`, "/"))
	}
	return ""
}

// tokenizeJSON is llama.cpp's POST /tokenize answer (ids, or with
// with_pieces objects; only the count matters here).
type tokenizeJSON struct {
	Tokens []json.RawMessage `json:"tokens"`
}

// vocabHas reports whether the model's vocabulary has t's sentinels as
// tokens of their own, asking llama.cpp's /tokenize; true when the server
// cannot say (an older one), since the template is then the best guess.
func (e *remoteEngine) vocabHas(ctx context.Context, t *fimTemplate) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var v tokenizeJSON
	body := map[string]any{"content": strings.Join(t.sentinels, ""), "add_special": false, "parse_special": true}
	status, _, err := e.c.ask(ctx, e.root.url+"/tokenize", body, &v)
	if status != 200 || err != nil {
		return true
	}
	return len(v.Tokens) == len(t.sentinels)
}
