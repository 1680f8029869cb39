package lsp

import (
	"encoding/json"
	"testing"
)

// TestInlineTypesWire checks the JSON names against the LSP 3.18 specification.
func TestInlineTypesWire(t *testing.T) {
	var p InlineCompletionParams
	in := `{"textDocument":{"uri":"file:///a.go"},"position":{"line":3,"character":7},
		"context":{"triggerKind":2,"selectedCompletionInfo":{"range":{"start":{"line":3,"character":5},"end":{"line":3,"character":7}},"text":"Println"}}}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if p.TextDocument.URI != "file:///a.go" || p.Position.Line != 3 || p.Position.Character != 7 ||
		p.Context.TriggerKind != InlineCompletionAutomatic || p.Context.SelectedCompletionInfo == nil ||
		p.Context.SelectedCompletionInfo.Text != "Println" || p.Context.SelectedCompletionInfo.Range.Start.Character != 5 {
		t.Errorf("decoded %+v", p)
	}
	r := NewMapper("ab", UTF16).Range(1, 2)
	out, err := json.Marshal(InlineCompletionList{Items: []InlineCompletionItem{{InsertText: "x", Range: &r}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"items":[{"insertText":"x","range":{"start":{"line":0,"character":1},"end":{"line":0,"character":2}}}]}`
	if string(out) != want {
		t.Errorf("encoded\n%s\nwant\n%s", out, want)
	}
}
