// Package lsp is dfim's language server: it speaks the Language Server
// Protocol over one connection (stdio or TCP) and answers
// textDocument/completion and textDocument/inlineCompletion with
// suggestions from an infill.Filler (infill's Completer, in production).
// The commands dfim.fillHoles and dfim.fillSelection
// (workspace/executeCommand) fill the hole markers in code (infill's
// markers, as `dfim batch` finds them) or a selection and answer
// with a workspace/applyEdit request, versioned when the client allows.
// textDocument/copilotInlineEdit (Copilot's request, inline_edit.go)
// answers with the next edit the document's recent didChange edits call
// for (infill's NextEdits), when the nextEdit setting is on.
//
// It owns protocol handling (one file per LSP method, unimplemented
// methods in unimplemented.go), the document store with incremental sync,
// the Mapper between LSP positions (UTF-16 or UTF-8) and byte offsets,
// cancellation ($/cancelRequest, newer document versions), per-document
// debounce, settings (pushed by the client, or pulled with
// workspace/configuration when it offers that), the LSP 3.18 inline
// completion types that go.lsp.dev/protocol v0.12.0 lacks
// (inline_types.go), and the session's workspace index
// (workspace_index.go): built in the background for the root the client
// names, with $/progress while the first scan runs, told about opened,
// edited and closed documents, and given to infill as the context source
// of every completion and fill command (infill.Options.Context), which
// never waits for it. Its log goes to the client as window/logMessage with
// each entry's level when Options.LogToClient (logmessage.go). The reader survives framing errors (it
// resynchronises on the next Content-Length header) and ids jsonrpc2
// cannot hold (ids.go); every request with an id gets one reply. Requests
// that fail inside the server are answered empty for the editor and
// counted for dfim/stats (stats.go), so benchmarks and tests can see them.
//
// It must not call an engine directly (completions go through infill; it
// imports neither engine nor batch), and
// it must never write anything but LSP messages to its connection: logs go
// to the zap logger the caller provides.
package lsp
