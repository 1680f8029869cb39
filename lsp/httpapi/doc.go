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
// Answers carry a "dfim" object beside the documented fields: per choice
// confidence, syntax, repaired and tokens (the engine's, also for a fill
// the gate hid: then "gated": true), and for an empty one "reason"; per
// answer steps (the engine's, dropped candidates' included) and latency.
// usage.completion_tokens counts the tokens written; finish_reason is
// "stop" when the fill ended by itself or at a stop string, "length" when
// the text written reached max_tokens. n asks for n choices (at most 8):
// the distinct fills best first, then candidates that repeat one
// ("duplicate_of"), then empty ones saying why infill dropped them, and
// "fewer_choices" says why when fewer came back.
//
// Who may call (guard.go): only requests addressed to a loopback name
// (localhost, 127.0.0.0/8, [::1]) unless AllowAnyHost, so that a web page
// rebinding its name to 127.0.0.1 is refused; and no request a browser
// sends for a page (Origin, or Sec-Fetch-Site cross-site) unless its
// origin is in CORSOrigins, which also get CORS preflights answered.
//
// Errors are OpenAI's {"error": {"message", "type", "param", "code"}}:
// 400 for a malformed or invalid body (the server keeps serving), 401
// without the API key, 403 for a Host or Origin refused, 404 and 405,
// 408 for a body that does not arrive within BodyTimeout, 413 for a body
// over MaxBodyBytes (refused unread when Content-Length says so) or a
// canvas over MaxCanvasTokens, 429 with Retry-After when MaxQueue
// requests wait already, the client has MaxClientQueue waiting, or
// MaxBodiesBytes of bodies are held, 503 while the engine cannot load. A
// request whose client disconnects is cancelled: its context ends the
// fill (the engine checks it every denoising step) or its place in the
// queue. Every request gets a log line (client, endpoint, status, tokens
// written, ms, and why a fill came back empty): fills and refusals at
// info, answered GETs at debug.
//
// Concurrency (queue.go): a request takes its place in the queue before
// its body is read, so a refused one costs nothing. Parallel requests
// fill at once; the rest wait in a fair queue, one line per client (its
// address and bearer key: clientKey), each freed slot going to the ready
// client holding the fewest; a client may have MaxClientQueue requests
// waiting and hold MaxClientParallel slots, so a flooding client is
// refused before it locks out the others. The native engine steps the
// requests filling at once together, sharing forward passes.
//
// It must not hold completion logic of its own (planning, validation,
// post-processing and the gate are infill's), call an engine directly
// (it reads only the optional engine interfaces for token counts, the
// context length and the description), or log request text.
package httpapi
