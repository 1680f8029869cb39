// Package remote holds engines that call models served elsewhere over HTTP.
// They register themselves with package engine:
//
//   - "inception": Inception's Mercury FIM API, POST {base}/v1/fim/completions
//     with model, prompt (the prefix), suffix, max_tokens and stream. The key
//     comes from Config.APIKey or INCEPTION_API_KEY. Base URL
//     https://api.inceptionlabs.ai, model mercury-edit-2 unless configured.
//   - "openai": OpenAI-compatible servers (vLLM, SGLang, Ollama) and
//     llama.cpp's llama-server. The endpoint's path names the API it
//     starts with (…/infill, …/completions, or a base URL, which gets
//     /v1/completions); before the first fill the engine looks at the
//     server (probe.go: GET /props, /v1/models) and takes the route that
//     carries the suffix: llama.cpp's /infill (its /v1/completions drops
//     the suffix field without a word), the model's FIM template written
//     into the prompt where suffix is refused (vLLM, SGLang, older
//     llama.cpp, learnt from the refusal where the look said nothing), the
//     suffix field elsewhere. A model llama.cpp cannot infill with (501,
//     no FIM tokens) moves to the template where its vocabulary has the
//     template's tokens, or fails with an error that says so. The route is
//     logged at debug level (log/slog). The key, if the server wants one,
//     comes from Config.APIKey or OPENAI_API_KEY, and goes only to that
//     server. The template is found from the model name (--remote-model,
//     or the name the server gives) or forced with DFIM_FIM_TEMPLATE
//     (template.go).
//
// A canvas [prefix, hole, suffix] is one request; fixed segments before the
// prefix are cross-file context (input_extra for /infill, the start of the
// prompt otherwise). Canvases with several holes return
// engine.ErrUnsupported: left-to-right models cannot fill them jointly.
// Candidates are asked for with n where the API has it and the server
// takes it, otherwise with one request each; at temperature 0 only the
// first is greedy, the others sampled warmer. The openai engine streams
// every request (server-sent events), so that a cancelled fill closes the
// connection and the server stops generating; inception streams when the
// request has an Observe callback. Every chunk is reported to Observe as
// a Step holding the text so far. ContextLength is the server's context
// (llama.cpp's per-slot n_ctx, vLLM's max_model_len); a prompt llama.cpp
// still finds too long is cut to fit and asked once more.
//
// Every call is bounded by Config.Timeout and ends when its context does,
// closing the HTTP request. 429 and 5xx answers and dropped connections are
// retried a few times with jittered exponential backoff, honouring
// Retry-After when it is short; a 5xx that refuses the request's shape
// (llama.cpp's 501 for a model without FIM tokens, older llama.cpp's 500
// "Unsupported param: suffix") is an answer, not an outage, and is
// neither retried nor counted. A circuit breaker fails calls at once for a
// cool-down after consecutive failures, so a down server never stalls
// typing. Errors are *Error values that say what the user can do.
//
// A key, from Config.APIKey or the environment, goes over https, or over
// plain http only to a loopback address: an engine with a key does not
// open on an http endpoint of another machine (secret.go), and a redirect
// to one is not followed. Which endpoint may get the key at all (not one
// an editor's settings named) is decided by whoever opens the engine.
//
// This package must not log or return the API key, know about documents
// or editors, or rewrite what the server filled: trimming and validation
// belong to infill.
package remote
