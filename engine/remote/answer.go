package remote

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// A candidate is one fill as it arrives from the server.
type candidate struct {
	text     strings.Builder
	tokens   int     // completion tokens the server counted; 0 = not said
	logprob  float64 // sum of token log-probabilities the server sent
	logprobs int     // how many it sent
	finished bool    // a finish_reason (or stop) arrived
	steps    int     // streamed chunks that carried text
}

// completionJSON is an OpenAI text completion, or one streamed chunk of it.
// Chunks carry either choices[].text (OpenAI, vLLM, Inception) or
// choices[].delta.content (chat-style streams some servers send).
type completionJSON struct {
	Choices []struct {
		Index int     `json:"index"`
		Text  *string `json:"text"`
		Delta *struct {
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string         `json:"finish_reason"`
		Logprobs     json.RawMessage `json:"logprobs"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// infillJSON is llama.cpp's native /infill answer, or one streamed chunk.
type infillJSON struct {
	Content         *string `json:"content"`
	Stop            bool    `json:"stop"`
	TokensPredicted int     `json:"tokens_predicted"`
	Probabilities   []struct {
		Logprob *float64 `json:"logprob"`
	} `json:"completion_probabilities"`
	Error json.RawMessage `json:"error"`
}

// tokenLogprobs reads a completion choice's logprobs: OpenAI's legacy
// {"token_logprobs": [...]} (vLLM, SGLang) or the {"content": [{"logprob"}]}
// that llama.cpp's /v1/completions sends. Anything else is ignored, since
// logprobs are only a ranking hint.
func tokenLogprobs(raw json.RawMessage) (sum float64, n int) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, 0
	}
	var lp struct {
		TokenLogprobs []*float64 `json:"token_logprobs"`
		Content       []struct {
			Logprob *float64 `json:"logprob"`
		} `json:"content"`
	}
	if json.Unmarshal(raw, &lp) != nil {
		return 0, 0
	}
	add := func(p *float64) {
		if p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
			sum += *p
			n++
		}
	}
	for _, p := range lp.TokenLogprobs {
		add(p)
	}
	if len(lp.TokenLogprobs) == 0 {
		for _, c := range lp.Content {
			add(c.Logprob)
		}
	}
	return sum, n
}

// wholeJSON reports whether an answer asked for as a stream came back as
// one JSON document instead (a server or proxy that ignores "stream"):
// its first byte that is not white space opens an object.
func wholeJSON(br *bufio.Reader) bool {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil || len(b) < i {
			return false
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			if i >= 512 {
				return false
			}
			continue
		case '{':
			return true
		}
		return false
	}
}

// errorObject turns an "error" member of a 200 answer into a serverError.
func errorObject(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return serverError{msg: serverMessage([]byte(`{"error":` + string(raw) + `}`))}
}

// applyCompletion adds one answer or chunk to cands (indexed by the
// choice's index) and calls changed for each candidate that got text.
// A whole (non-streamed) answer finishes every choice it holds.
func applyCompletion(v *completionJSON, cands []*candidate, whole bool, changed func(i int)) {
	for _, ch := range v.Choices {
		if ch.Index < 0 || ch.Index >= len(cands) {
			continue // a choice we did not ask for
		}
		c := cands[ch.Index]
		var piece *string
		switch {
		case ch.Text != nil:
			piece = ch.Text
		case ch.Delta != nil:
			piece = ch.Delta.Content
		}
		if whole || ch.FinishReason != nil && *ch.FinishReason != "" {
			c.finished = true
		}
		sum, n := tokenLogprobs(ch.Logprobs)
		c.logprob += sum
		c.logprobs += n
		if piece != nil && *piece != "" {
			c.text.WriteString(*piece)
			c.steps++
			if changed != nil {
				changed(ch.Index)
			}
		}
	}
	// Usage counts all choices together; it names one candidate's tokens
	// only when there is one.
	if v.Usage != nil && len(cands) == 1 {
		cands[0].tokens = v.Usage.CompletionTokens
	}
}

// readCompletion reads an OpenAI-style completion answer into cands,
// streamed (server-sent events) or whole.
func readCompletion(r io.Reader, stream bool, cands []*candidate, changed func(i int)) error {
	br := bufio.NewReader(r)
	r = br
	if !stream || wholeJSON(br) {
		var v completionJSON
		if err := json.NewDecoder(r).Decode(&v); err != nil {
			return decodeError{fmt.Errorf("reading the completion: %w", err)}
		}
		if err := errorObject(v.Error); err != nil {
			return err
		}
		if len(v.Choices) == 0 {
			return decodeError{errors.New("the completion has no choices")}
		}
		applyCompletion(&v, cands, true, changed)
		return nil
	}
	sawDone, err := readEvents(r, func(data []byte) error {
		var v completionJSON
		if err := json.Unmarshal(data, &v); err != nil {
			return decodeError{fmt.Errorf("reading a streamed chunk %q: %w", shorten(string(data)), err)}
		}
		if err := errorObject(v.Error); err != nil {
			return err
		}
		applyCompletion(&v, cands, false, changed)
		return nil
	})
	if err != nil {
		return err
	}
	if !sawDone && !anyFinished(cands) {
		// A stream cut before [DONE] or a finish_reason is a broken
		// connection, not an answer.
		return fmt.Errorf("the stream ended before [DONE]: %w", io.ErrUnexpectedEOF)
	}
	return nil
}

// readInfill reads llama.cpp's /infill answer into the one candidate c.
func readInfill(r io.Reader, stream bool, c *candidate, changed func()) error {
	br := bufio.NewReader(r)
	r = br
	apply := func(v *infillJSON) error {
		if err := errorObject(v.Error); err != nil {
			return err
		}
		if v.Content != nil && *v.Content != "" {
			c.text.WriteString(*v.Content)
			c.steps++
			if changed != nil {
				changed()
			}
		}
		for _, p := range v.Probabilities {
			if p.Logprob != nil && !math.IsNaN(*p.Logprob) && !math.IsInf(*p.Logprob, 0) {
				c.logprob += *p.Logprob
				c.logprobs++
			}
		}
		if v.TokensPredicted > 0 {
			c.tokens = v.TokensPredicted
		}
		if v.Stop {
			c.finished = true
		}
		return nil
	}
	if !stream || wholeJSON(br) {
		var v infillJSON
		if err := json.NewDecoder(r).Decode(&v); err != nil {
			return decodeError{fmt.Errorf("reading the /infill answer: %w", err)}
		}
		if v.Content == nil && len(v.Error) == 0 {
			return decodeError{errors.New(`the /infill answer has no "content"`)}
		}
		if err := apply(&v); err != nil {
			return err
		}
		c.finished = true
		return nil
	}
	sawDone, err := readEvents(r, func(data []byte) error {
		var v infillJSON
		if err := json.Unmarshal(data, &v); err != nil {
			return decodeError{fmt.Errorf("reading a streamed /infill chunk %q: %w", shorten(string(data)), err)}
		}
		if err := apply(&v); err != nil {
			return err
		}
		if v.Stop {
			return errStreamDone
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !sawDone && !c.finished {
		return fmt.Errorf("the /infill stream ended before its last chunk: %w", io.ErrUnexpectedEOF)
	}
	return nil
}

func anyFinished(cands []*candidate) bool {
	for _, c := range cands {
		if c.finished {
			return true
		}
	}
	return false
}
