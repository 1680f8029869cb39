// Package lspbench measures completion latency the way a user feels it: it
// drives an LSP server (normally `dfim serve`) as an editor would, typing a
// file into it one keystroke at a time with seeded human pauses, sending an
// incremental textDocument/didChange and an automatic
// textDocument/inlineCompletion after every key and cancelling the previous
// request with $/cancelRequest. It reports keystroke-to-suggestion latency,
// requests sent and cancelled, suggestions shown, and how many of them the
// user would have accepted (the text typed next starts with them). After
// the typing it sends quiet requests, one at a time, which must all
// succeed; and it counts as errors the requests that failed inside the
// server, which dfim answers with an empty result and reports through its
// own dfim/stats request (a server without it reports -1 such failures).
//
// It owns a small JSON-RPC client over stdio with Content-Length framing and
// the typing schedule. It must not import the server's packages: it sees the
// server only through the protocol, as an editor does.
package lspbench
