package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
)

// llama.cpp's POST /infill: input_prefix, input_suffix, input_extra
// (cross-file chunks), prompt (text after the prefix), n_predict, stream.
// The answer is llama.cpp's: content, stop, tokens_predicted, timings;
// streamed, one chunk with the content, then one with stop: true.

var endpointInfill = &endpoint{path: "/infill", parse: parseInfill,
	whole: writeInfill, stream: streamInfill, streamError: streamCompletionError}

// infillBody is the request, dfim's own fields last.
type infillBody struct {
	InputPrefix    *string      `json:"input_prefix"`
	InputSuffix    string       `json:"input_suffix"`
	InputExtra     []extraChunk `json:"input_extra"`
	Prompt         string       `json:"prompt"`
	NPredict       *int         `json:"n_predict"`
	Stream         bool         `json:"stream"`
	Stop           stringList   `json:"stop"`
	Temperature    *float32     `json:"temperature"`
	TopP           *float32     `json:"top_p"`
	Seed           *int64       `json:"seed"`
	ResponseFields []string     `json:"response_fields"`
	Model          string       `json:"model"`

	Language      string   `json:"language"`
	Filename      string   `json:"filename"`
	MinConfidence *float64 `json:"min_confidence"`
	Holes         bool     `json:"holes"`
	Steps         *int     `json:"steps"`
}

func parseInfill(body []byte) (*fillRequest, *apiError) {
	var b infillBody
	if e := decode(body, &b); e != nil {
		return nil, e
	}
	if b.InputPrefix == nil {
		return nil, invalidf("input_prefix", "missing \"input_prefix\": the text before the cursor (\"input_suffix\" is the text after it)")
	}
	req := &fillRequest{prompt: *b.InputPrefix + b.Prompt, suffix: b.InputSuffix, extra: b.InputExtra,
		stop: b.Stop, stream: b.Stream, temperature: b.Temperature, topP: b.TopP, language: b.Language, filename: b.Filename,
		minConfidence: b.MinConfidence, holes: b.Holes, responseFields: b.ResponseFields}
	if b.NPredict != nil {
		switch n := *b.NPredict; {
		case n == 0:
			req.zeroTokens = true
		case n > 0:
			req.maxTokens = n
		} // negative: llama.cpp's "until the end", here planned from the cursor
	}
	if b.Seed != nil && *b.Seed >= 0 && uint64(*b.Seed) != 0xffffffff { // llama.cpp's -1 / 4294967295: random
		req.seed = uint64(*b.Seed)
	}
	if b.Steps != nil {
		req.steps = *b.Steps
	}
	if e := checkCommon(req, "n_predict"); e != nil {
		return nil, e
	}
	return req, nil
}

// infillAnswer is llama.cpp's answer to /infill, in the part clients read.
func (s *Server) infillAnswer(req *fillRequest, out *outcome, c choice, final bool) map[string]any {
	ms := float64(out.fill.Microseconds()) / 1000
	perSecond, perToken := 0.0, 0.0
	if c.tokens > 0 && ms > 0 {
		perSecond, perToken = float64(c.tokens)/(ms/1000), ms/float64(c.tokens)
	}
	stopType := "eos"
	switch {
	case c.stopWord != "":
		stopType = "word"
	case c.finish == "length":
		stopType = "limit"
	}
	v := map[string]any{
		"index": 0, "content": c.text, "tokens": []int{}, "id_slot": 0, "stop": final, "model": s.opts.Model,
		"tokens_predicted": c.tokens, "tokens_evaluated": out.promptTokens,
	}
	if !final {
		return v
	}
	v["stop_type"], v["stopping_word"] = stopType, c.stopWord
	v["has_new_line"] = strings.Contains(c.text, "\n")
	v["truncated"], v["tokens_cached"] = false, 0
	v["generation_settings"] = map[string]any{"n_predict": req.maxTokens, "stream": req.stream}
	v["timings"] = map[string]any{
		"prompt_n": out.promptTokens, "prompt_ms": 0.0, "prompt_per_token_ms": 0.0, "prompt_per_second": 0.0,
		"predicted_n": c.tokens, "predicted_ms": ms, "predicted_per_token_ms": perToken, "predicted_per_second": perSecond,
	}
	d := c.dfim()
	d["steps"] = out.steps
	v["dfim"] = d
	return v
}

// pick keeps the response_fields a client asked for, by path
// ("timings/prompt_n"), as llama.cpp does; all fields when none is named.
func pick(v map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return v
	}
	// Through JSON, so nested maps read alike.
	b, _ := json.Marshal(v)
	var all map[string]any
	json.Unmarshal(b, &all)
	out := map[string]any{}
	for _, f := range fields {
		var cur any = all
		for _, part := range strings.Split(f, "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[part]
		}
		if cur != nil {
			out[f] = cur
		}
	}
	return out
}

func writeInfill(s *Server, w http.ResponseWriter, req *fillRequest, out *outcome) {
	writeJSON(w, http.StatusOK, pick(s.infillAnswer(req, out, out.choices[0], true), req.responseFields))
}

func streamInfill(s *Server, sse *sseWriter, req *fillRequest, out *outcome) {
	c := out.choices[0]
	if c.text != "" {
		sse.event(s.infillAnswer(req, out, c, false))
	}
	last := c
	last.text = ""
	end := s.infillAnswer(req, out, last, true)
	end["tokens_predicted"] = c.tokens
	end["has_new_line"] = strings.Contains(c.text, "\n")
	sse.event(end)
}
