package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/dfim/dfim/infill"
)

// The two OpenAI-shaped APIs: Inception's POST /v1/fim/completions and
// OpenAI's legacy POST /v1/completions with suffix. Their requests differ
// only in what each documents (Inception has no n; dfim takes every field
// on both), and both answer a text_completion.

var (
	endpointFIM = &endpoint{path: "/v1/fim/completions", parse: parseCompletions,
		whole: writeCompletion, stream: streamCompletion, step: streamStep, streamError: streamCompletionError}
	endpointCompletions = &endpoint{path: "/v1/completions", parse: parseCompletions,
		whole: writeCompletion, stream: streamCompletion, step: streamStep, streamError: streamCompletionError}
)

// completionsBody is the request of both APIs, dfim's own fields last.
type completionsBody struct {
	Model         string      `json:"model"`
	Prompt        promptField `json:"prompt"`
	Suffix        *string     `json:"suffix"`
	MaxTokens     *int        `json:"max_tokens"`
	Stop          stringList  `json:"stop"`
	Stream        bool        `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	N           *int     `json:"n"`
	Temperature *float32 `json:"temperature"`
	TopP        *float32 `json:"top_p"`
	Seed        *int64   `json:"seed"`
	User        string   `json:"user"`
	Echo        bool     `json:"echo"`
	// Diffusing streams each denoising step's full text (Inception's
	// diffusing view); needs stream.
	Diffusing bool `json:"diffusing"`

	// dfim's own fields.
	Language      string   `json:"language"`       // LSP languageId: tree-sitter validates and repairs the fill
	Filename      string   `json:"filename"`       // or a file name, whose extension gives the language
	MinConfidence *float64 `json:"min_confidence"` // the confidence gate (0: every fill)
	Holes         bool     `json:"holes"`          // fill every <<fill>> marker of prompt and suffix too
	Steps         *int     `json:"steps"`          // denoising steps
}

// promptField is "prompt": a string, or a list of one string. It is
// decoded in place, not kept as raw JSON: a prompt may be megabytes.
type promptField struct {
	set  bool
	text string
	err  *apiError // what is wrong with it
}

func (p *promptField) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		p.set = true
		return json.Unmarshal(b, &p.text)
	case b[0] == '[':
		p.set = true
		var list []string
		if json.Unmarshal(b, &list) != nil {
			p.err = invalidf("prompt", "\"prompt\" as a list must be a list of strings (token ids are not taken)")
		} else if len(list) != 1 {
			p.err = invalidf("prompt", "\"prompt\" is a list of %d strings; dfim fills one prompt a request", len(list))
		} else {
			p.text = list[0]
		}
		return nil
	}
	p.set = true
	p.err = invalidf("prompt", "\"prompt\" must be a string")
	return nil
}

// endOfText is what Continue sends as the suffix when there is none.
const endOfText = "<|endoftext|>"

func parseCompletions(body []byte) (*fillRequest, *apiError) {
	var b completionsBody
	if e := decode(body, &b); e != nil {
		return nil, e
	}
	req := &fillRequest{stop: b.Stop, stream: b.Stream, diffusing: b.Diffusing, temperature: b.Temperature, topP: b.TopP,
		user: b.User, language: b.Language, filename: b.Filename, minConfidence: b.MinConfidence, holes: b.Holes}
	switch {
	case b.Prompt.err != nil:
		return nil, b.Prompt.err
	case !b.Prompt.set:
		return nil, invalidf("prompt", "missing \"prompt\": the text before the cursor (\"suffix\" is the text after it)")
	}
	req.prompt = b.Prompt.text
	if b.Suffix != nil && *b.Suffix != endOfText {
		req.suffix = *b.Suffix
	}
	if b.MaxTokens != nil {
		req.maxTokens = *b.MaxTokens
		if *b.MaxTokens == 0 {
			req.zeroTokens = true
		}
	}
	if b.N != nil {
		req.n = *b.N
		if req.n == 0 {
			return nil, invalidf("n", "n 0: want from 1 to 8 completions")
		}
	}
	if b.Seed != nil {
		req.seed = uint64(*b.Seed)
	}
	if b.Steps != nil {
		req.steps = *b.Steps
	}
	if b.StreamOptions != nil {
		req.includeUsage = b.StreamOptions.IncludeUsage
	}
	if b.Echo {
		return nil, invalidf("echo", "echo is not supported: the answer holds only the filled text")
	}
	if e := checkCommon(req, "max_tokens"); e != nil {
		return nil, e
	}
	return req, nil
}

// completionJSON is a text_completion answer, or one streamed chunk.
type completionJSON struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	Model   string         `json:"model"`
	Choices []choiceJSON   `json:"choices"`
	Usage   *usageJSON     `json:"usage,omitempty"`
	Dfim    map[string]any `json:"dfim,omitempty"`
}

type choiceJSON struct {
	Index        int            `json:"index"`
	Text         string         `json:"text"`
	Logprobs     any            `json:"logprobs"`
	FinishReason *string        `json:"finish_reason"`
	Dfim         map[string]any `json:"dfim,omitempty"`
}

type usageJSON struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (s *Server) completion(req *fillRequest, choices []choiceJSON) completionJSON {
	return completionJSON{ID: req.id, Object: "text_completion", Created: req.created, Model: s.opts.Model, Choices: choices}
}

func usage(out *outcome) *usageJSON {
	return &usageJSON{PromptTokens: out.promptTokens, CompletionTokens: out.completionTokens,
		TotalTokens: out.promptTokens + out.completionTokens}
}

func outcomeDfim(out *outcome) map[string]any {
	m := map[string]any{"steps": out.steps, "latency_ms": float64(out.latency.Microseconds()) / 1000,
		"fill_ms": float64(out.fill.Microseconds()) / 1000}
	if out.fewer != "" {
		m["fewer_choices"] = out.fewer
	}
	return m
}

func writeCompletion(s *Server, w http.ResponseWriter, req *fillRequest, out *outcome) {
	var choices []choiceJSON
	for i, c := range out.choices {
		f := c.finish
		choices = append(choices, choiceJSON{Index: i, Text: c.text, FinishReason: &f, Dfim: c.dfim()})
	}
	v := s.completion(req, choices)
	v.Usage, v.Dfim = usage(out), outcomeDfim(out)
	writeJSON(w, http.StatusOK, v)
}

// streamCompletion sends each choice's text in one chunk (a fill is only
// known once validated), then its finish_reason, then [DONE]. With
// diffusing, the text chunks replace what came before, as every step's
// did, so the last one holds the whole final text.
func streamCompletion(s *Server, sse *sseWriter, req *fillRequest, out *outcome) {
	for i, c := range out.choices {
		if c.text != "" || req.diffusing {
			sse.event(s.completion(req, []choiceJSON{{Index: i, Text: c.text}}))
		}
	}
	var last []choiceJSON
	for i, c := range out.choices {
		f := c.finish
		last = append(last, choiceJSON{Index: i, FinishReason: &f, Dfim: c.dfim()})
	}
	end := s.completion(req, last)
	end.Dfim = outcomeDfim(out)
	sse.event(end)
	if req.includeUsage {
		u := s.completion(req, []choiceJSON{})
		u.Usage = usage(out)
		sse.event(u)
	}
	sse.done()
}

// streamStep sends one denoising step: each hole's full text so far, the
// positions still masked shown as infill.MaskGlyph.
func streamStep(s *Server, sse *sseWriter, req *fillRequest, st infill.Step) {
	if len(st.Holes) == 0 || st.Candidate >= max(req.n, 1) {
		return
	}
	v := s.completion(req, []choiceJSON{{Index: st.Candidate, Text: st.Holes[0]}})
	v.Dfim = map[string]any{"step": st.Index, "diffusing": true}
	sse.event(v)
}

func streamCompletionError(sse *sseWriter, e *apiError) {
	sse.event(struct {
		Error *apiError `json:"error"`
	}{e})
}
