package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/dfim/dfim/engine"
)

// Mercury Edit, Inception's next-edit model: POST /v1/edit/completions
// with one user message that holds the recently viewed snippets, the
// current file with its editable region marked, and the edit history as
// unified diffs (docs.inceptionlabs.ai, "Next Edit"); the answer is a
// chat completion whose message is the editable region rewritten, in a
// fenced code block.

// Mercury Edit's prompt markers.
const (
	mercurySnippets     = "<|recently_viewed_code_snippets|>"
	mercurySnippetsEnd  = "<|/recently_viewed_code_snippets|>"
	mercurySnippet      = "<|recently_viewed_code_snippet|>"
	mercurySnippetEnd   = "<|/recently_viewed_code_snippet|>"
	mercuryFile         = "<|current_file_content|>"
	mercuryFileEnd      = "<|/current_file_content|>"
	mercuryRegion       = "<|code_to_edit|>"
	mercuryRegionEnd    = "<|/code_to_edit|>"
	mercuryCursor       = "<|cursor|>"
	mercuryHistory      = "<|edit_diff_history|>"
	mercuryHistoryEnd   = "<|/edit_diff_history|>"
	minEditAnswerTokens = 256
)

// inceptionEngine is the inception engine: Mercury's FIM API for
// completions (the embedded remoteEngine) and its edit API for next edits.
type inceptionEngine struct {
	*remoteEngine
	edit target // .../v1/edit/completions on the configured host
}

var _ engine.NextEditor = (*inceptionEngine)(nil)

// newInceptionEditor opens the inception engine with next edits: the edit
// API is on the FIM endpoint's host, beside it (.../fim/completions
// becomes .../edit/completions), so the API key goes nowhere else.
func newInceptionEditor(cfg engine.Config, tune tuning) (*inceptionEngine, error) {
	e, err := newInception(cfg, tune)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(e.c.url)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("engine inception: the endpoint %s: %w", e.shown, err)
	}
	if p, ok := strings.CutSuffix(u.Path, "/fim/completions"); ok {
		u.Path = p + "/edit/completions"
	} else {
		// A full URL of another shape: the edit API beside it.
		u.Path = strings.TrimSuffix(u.Path[:strings.LastIndex(u.Path, "/")+1], "/") + "/edit/completions"
	}
	return &inceptionEngine{remoteEngine: e, edit: target{url: u.String(), shown: u.Redacted()}}, nil
}

// editRequest is the body of POST /v1/edit/completions: one user message
// (the API takes no system message and no streaming).
type editRequest struct {
	Model     string        `json:"model"`
	Messages  []editMessage `json:"messages"`
	MaxTokens int           `json:"max_tokens,omitempty"`
}

type editMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// editAnswer is the part of the chat completion the edit API answers with
// that dfim reads.
type editAnswer struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Error json.RawMessage `json:"error"`
}

// NextEdit asks Mercury Edit to rewrite the editable region of req.
func (e *inceptionEngine) NextEdit(ctx context.Context, req engine.NextEditRequest) (string, error) {
	if req.RegionStart < 0 || req.RegionStart > req.RegionEnd || req.RegionEnd > len(req.Text) ||
		req.Cursor < req.RegionStart || req.Cursor > req.RegionEnd {
		return "", fmt.Errorf("engine inception: next edit of %s: region [%d, %d) with the cursor at %d does not fit its %d bytes",
			req.Path, req.RegionStart, req.RegionEnd, req.Cursor, len(req.Text))
	}
	region := req.Text[req.RegionStart:req.RegionEnd]
	body := editRequest{Model: e.model, Messages: []editMessage{{Role: "user", Content: mercuryEditPrompt(req)}},
		MaxTokens: max(minEditAnswerTokens, len(region)/2)}
	ctx, cancel := e.c.withTimeout(ctx)
	defer cancel()
	var ans editAnswer
	err := e.c.postTo(ctx, e.edit, body, false, func(r io.Reader) error {
		if err := json.NewDecoder(r).Decode(&ans); err != nil {
			return decodeError{fmt.Errorf("inception: the edit answer from %s is not JSON: %w", e.edit.shown, err)}
		}
		if len(ans.Error) > 0 && string(ans.Error) != "null" {
			return errorObject(ans.Error)
		}
		if len(ans.Choices) == 0 {
			return decodeError{errors.New("inception: the edit answer from " + e.edit.shown + " has no choices")}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return editedRegion(ans.Choices[0].Message.Content, region), nil
}

// mercuryEditPrompt is the user message of an edit request, in the layout
// Inception documents: snippets, the file with its region and cursor
// marked, then the edit history, newest last.
func mercuryEditPrompt(req engine.NextEditRequest) string {
	var b strings.Builder
	b.WriteString(mercurySnippets + "\n")
	for _, s := range req.Snippets {
		b.WriteString(mercurySnippet + "\ncode_snippet_file_path: " + s.Path + "\n" + s.Text)
		if !strings.HasSuffix(s.Text, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(mercurySnippetEnd + "\n")
	}
	b.WriteString("\n" + mercurySnippetsEnd + "\n\n")
	b.WriteString(mercuryFile + "\ncurrent_file_path: " + req.Path + "\n")
	b.WriteString(req.Text[:req.RegionStart])
	if req.RegionStart > 0 && !strings.HasSuffix(req.Text[:req.RegionStart], "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(mercuryRegion + "\n")
	b.WriteString(req.Text[req.RegionStart:req.Cursor] + mercuryCursor + req.Text[req.Cursor:req.RegionEnd])
	if !strings.HasSuffix(req.Text[:req.RegionEnd], "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(mercuryRegionEnd + "\n")
	b.WriteString(req.Text[req.RegionEnd:])
	if req.RegionEnd < len(req.Text) && !strings.HasSuffix(req.Text, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(mercuryFileEnd + "\n\n" + mercuryHistory + "\n")
	for _, d := range req.History {
		b.WriteString(d)
		if !strings.HasSuffix(d, "\n") {
			b.WriteByte('\n')
		}
	}
	b.WriteString("\n" + mercuryHistoryEnd)
	return b.String()
}

// editedRegion is the rewritten region in an answer: the body of its
// first fenced code block (the whole answer when it has none), without a
// cursor marker, with the old region's final newline. An empty answer
// leaves the region as it was.
func editedRegion(answer, old string) string {
	text := answer
	if i := strings.Index(text, "```"); i >= 0 {
		text = text[i+3:]
		if nl := strings.IndexByte(text, '\n'); nl >= 0 {
			text = text[nl+1:] // the fence's language tag
		} else {
			text = ""
		}
		if j := strings.Index(text, "```"); j >= 0 {
			text = text[:j]
		}
	}
	text = strings.ReplaceAll(text, mercuryCursor, "")
	for _, m := range []string{mercuryRegion, mercuryRegionEnd} {
		text = strings.ReplaceAll(text, m+"\n", "")
		text = strings.ReplaceAll(text, m, "")
	}
	if strings.TrimSpace(text) == "" {
		return old // nothing to say, not "delete the region"
	}
	switch {
	case strings.HasSuffix(old, "\n") && !strings.HasSuffix(text, "\n"):
		text += "\n"
	case !strings.HasSuffix(old, "\n") && strings.HasSuffix(text, "\n"):
		text = strings.TrimSuffix(text, "\n")
	}
	return text
}
