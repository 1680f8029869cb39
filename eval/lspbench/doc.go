// Package lspbench measures completion latency the way a user feels it: it
// drives an LSP server (normally `dfim serve`) as an editor would, typing a
// file into it one keystroke at a time with seeded human pauses, sending an
// incremental textDocument/didChange and an automatic
// textDocument/inlineCompletion after every key and cancelling the previous
// request with $/cancelRequest. It reports keystroke-to-suggestion latency,
// requests sent and cancelled, suggestions shown, how many of them the
// user would have accepted (the text typed next starts with them), and the
// characters a user accepting word by word would take, each also per 100
// keystrokes. After
// the typing it sends quiet requests, one at a time, which must all
// succeed; and it counts as errors the requests that failed inside the
// server, which dfim answers with an empty result and reports through its
// own dfim/stats request (a server without it reports -1 such failures).
//
// Its next-edit pass (RunNES) replays edits from a history (tasks of `dfim
// eval gen --nes`): each opened as it was before, the user's edit sent as
// one didChange, then textDocument/copilotInlineEdit; the first edit
// proposed is scored as `dfim eval nes` scores it, with its latency.
//
// It owns a small JSON-RPC client over stdio with Content-Length framing and
// the typing schedule. It must not import the server's packages: it sees the
// server only through the protocol, as an editor does.
package lspbench
