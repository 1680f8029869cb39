package lsp

import "go.lsp.dev/protocol"

// LSP 3.18 inline completion, which go.lsp.dev/protocol v0.12.0 lacks.

// MethodInlineCompletion is the request for ghost-text completions.
const MethodInlineCompletion = "textDocument/inlineCompletion"

// InlineCompletionTriggerKind says why inline completions were requested.
type InlineCompletionTriggerKind int

const (
	// InlineCompletionInvoked: the user asked explicitly (a command or key).
	InlineCompletionInvoked InlineCompletionTriggerKind = 1
	// InlineCompletionAutomatic: the editor asked while the user typed.
	InlineCompletionAutomatic InlineCompletionTriggerKind = 2
)

// SelectedCompletionInfo describes the item selected in the completion
// widget when inline completions were requested.
type SelectedCompletionInfo struct {
	Range protocol.Range `json:"range"`
	Text  string         `json:"text"`
}

// InlineCompletionContext is the context of an inline completion request.
type InlineCompletionContext struct {
	TriggerKind            InlineCompletionTriggerKind `json:"triggerKind"`
	SelectedCompletionInfo *SelectedCompletionInfo     `json:"selectedCompletionInfo,omitempty"`
}

// InlineCompletionParams are the parameters of textDocument/inlineCompletion.
type InlineCompletionParams struct {
	TextDocument  protocol.TextDocumentIdentifier `json:"textDocument"`
	Position      protocol.Position               `json:"position"`
	Context       InlineCompletionContext         `json:"context"`
	WorkDoneToken *protocol.ProgressToken         `json:"workDoneToken,omitempty"`
}

// InlineCompletionItem is one inline completion: InsertText replaces Range
// (or is inserted at the cursor when Range is nil).
type InlineCompletionItem struct {
	InsertText string            `json:"insertText"`
	FilterText string            `json:"filterText,omitempty"`
	Range      *protocol.Range   `json:"range,omitempty"`
	Command    *protocol.Command `json:"command,omitempty"`
}

// InlineCompletionList is the result of textDocument/inlineCompletion.
type InlineCompletionList struct {
	Items []InlineCompletionItem `json:"items"`
}

// InlineCompletionOptions is the server capability (also sent as plain true
// by some servers; dfim sends the object).
type InlineCompletionOptions struct {
	WorkDoneProgress bool `json:"workDoneProgress,omitempty"`
}
