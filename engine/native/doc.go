// Package native is dfim's in-process diffusion engine: it loads GGUF
// models of the llada, dream and llada-moe architectures, tokenizes with their
// byte-level BPE, runs the bidirectional transformer on the CPU and
// denoises canvases with the samplers of LLaDA, Dream and Fast-dLLM.
// It registers itself as the "native" engine, and as "copy": the same
// tokenizer with no model, every slot filled by the copy expert alone (the
// lookup-table baseline the model must beat).
//
// It owns:
//   - the model (model.go): hyper-parameters from llama.cpp's keys, weights
//     bound to struct fields by their GGUF tensor names and validated, as
//     Ollama's engine does; llada (normal RoPE, in-place logits), dream
//     (neox RoPE, QKV bias, logits shifted by one position) and llada-moe
//     (neox RoPE, QK-norm, a mixture of experts), each meaning what the
//     same file means in llama.cpp (llamacpp_parity_test.go checks its
//     logits against llama.cpp's own, testdata/llamacpp/make.sh);
//   - the forward pass (forward.go): bidirectional attention, grouped-query
//     heads, optional QK-norm, dense or mixture-of-experts feed-forward,
//     logits only for the positions asked for;
//   - the denoiser (denoise.go, canvas.go): a canvas becomes tokens (each
//     fixed segment tokenized on its own, a hole a run of mask tokens), then
//     steps commit masked slots block by block until every hole is settled
//     or ends in pad/EOS; with the decoding experts on (engine.Options
//     .Experts, default all) slots are read left to right, each with the
//     picks before it as tentative text, the experts' offsets added to the
//     model's logits, and a run of confident slots commits in one step;
//   - cross-request batching (batch.go): concurrent Infill calls step
//     together, every round one forward pass over the next step of each
//     (Settings.Batch), each request's rows computed as they would be
//     alone, so batching changes no fill (TestBatchedFillsMatchAlone);
//   - the caches: within a request the fixed text's keys and values are
//     reused between exact passes (Settings.RefreshEvery), and across
//     requests those of an unchanged prefix (Settings.PrefixReuse). Both
//     are approximations, because attention is bidirectional; see prefixKV
//     and TestCachedMatchesExact for what they cost.
//
// It must not: know about documents, editors or languages (infill does),
// parse GGUF bytes (gguf does), split text into tokens (tokenizer does) or
// hold arithmetic kernels (kernels does). Samplers are pure functions in
// sample.
package native
