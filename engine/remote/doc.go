// Package remote holds engines that call models served elsewhere over HTTP.
// They register themselves with package engine:
//
//   - "inception": Inception's Mercury FIM API, POST {base}/v1/fim/completions
//     with model, prompt (the prefix), suffix, max_tokens and stream. The key
//     comes from Config.APIKey or INCEPTION_API_KEY. Base URL
//     https://api.inceptionlabs.ai, model mercury-edit-2 unless configured.
//   - "openai": OpenAI-compatible POST {base}/v1/completions with a suffix
//     (vLLM, SGLang, Ollama, llama.cpp's server), or llama.cpp's native
//     /infill when the endpoint's path ends in /infill. The key, if the
//     server wants one, comes from Config.APIKey or OPENAI_API_KEY. Servers
//     that refuse the suffix field (vLLM, SGLang) get the FIM prompt written
//     with the model's sentinel tokens, the template found from the model
//     name or forced with DFIM_FIM_TEMPLATE (template.go).
//
// A canvas [prefix, hole, suffix] is one request; fixed segments before the
// prefix are cross-file context (input_extra for /infill, the start of the
// prompt otherwise). Canvases with several holes return
// engine.ErrUnsupported: left-to-right models cannot fill them jointly.
// Candidates are asked for with n where the API has it, otherwise with one
// request each. With an Observe callback the answer is streamed (server-sent
// events) and every chunk is reported as a Step holding the text so far.
//
// Every call is bounded by Config.Timeout and ends when its context does,
// closing the HTTP request. 429 and 5xx answers and dropped connections are
// retried a few times with jittered exponential backoff, honouring
// Retry-After when it is short. A circuit breaker fails calls at once for a
// cool-down after consecutive failures, so a down server never stalls
// typing. Errors are *Error values that say what the user can do.
//
// This package must not log or return the API key, know about documents
// or editors, or rewrite what the server filled: trimming and validation
// belong to infill.
package remote
