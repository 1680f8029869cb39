// Package httpapi is `dfim serve --http`: the fill-in-the-middle HTTP APIs
// that editor plugins already call, answered by the same infill entry
// point (infill.Completer's Complete and FillHoles) as the language
// server, so every fill is planned, validated with tree-sitter where the
// request names the language, repaired and gated as in the editor.
//
// Endpoints (completions.go, infill.go, server.go):
//
//   - POST /v1/fim/completions: Inception's FIM API (model, prompt,
//     suffix, max_tokens, stop, stream, temperature, top_p), answered as a
//     text_completion; streamed as server-sent events ending in
//     "data: [DONE]". With "diffusing": true (and stream) every denoising
//     step arrives as the hole's full text so far, masked positions shown
//     as infill.MaskGlyph, each chunk replacing the one before, as
//     Inception's diffusing view does.
//   - POST /v1/completions (and /completions): OpenAI's legacy
//     completions with suffix, the same shape plus n and
//     stream_options.include_usage.
//   - POST /infill: llama.cpp's (input_prefix, input_suffix, input_extra
//     as cross-file chunks, prompt, n_predict, stream, response_fields);
//     n_predict 0, which llama.vim sends to warm its cache, is answered at
//     once without filling.
//   - GET /v1/models, GET /health (llama.cpp's: 503 while the model
//     loads; never needs the key), GET /metrics (Prometheus text:
//     requests by endpoint and status, a latency histogram, tokens and
//     tokens/s, queue depth, in flight).
//
// Fields only dfim takes, on every fill endpoint: "language" (an LSP
// languageId) or "filename" (its extension), so tree-sitter validates and
// repairs; "min_confidence", the confidence gate (the server's default is
// the minConfidence setting); "holes": true, which fills every <<fill>>
// marker (<<fill:N>> for at most N lines) of prompt and suffix jointly
// with the cursor, reported per hole under choices[].dfim.holes; "steps".
// Answers carry a "dfim" object (confidence, syntax, repaired, tokens;
// steps and latency) beside the documented fields.
//
// Errors are OpenAI's {"error": {"message", "type", "param", "code"}}:
// 400 for a malformed or invalid body (the server keeps serving), 401
// without the API key, 404 and 405, 413 for a body over MaxBodyBytes or a
// canvas over MaxCanvasTokens, 429 with Retry-After when MaxQueue
// requests wait already, 503 while the engine cannot load. A request
// whose client disconnects is cancelled: its context ends the fill (the
// engine checks it every denoising step) or its place in the queue.
//
// Concurrency (queue.go): Parallel requests fill at once (1 for the
// native engine, which runs one forward pass at a time and batches only
// the candidates of one canvas); the rest wait in a fair queue, one line
// per client (the "user" field, else the address), served round robin.
// Forward passes are not shared across requests: the engine offers no
// batched step over different canvases.
//
// It must not hold completion logic of its own (planning, validation,
// post-processing and the gate are infill's), call an engine directly
// (it reads only the optional engine interfaces for token counts, the
// context length and the description), or log request text.
package httpapi
