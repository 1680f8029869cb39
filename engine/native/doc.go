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
//   - the caches (canvascache.go): within a request the fixed text's keys
//     and values are reused between exact passes (Settings.RefreshEvery),
//     a cached step recomputing only the current block's slots
//     (Settings.WholeHole: every slot); across requests those of the
//     unchanged text before and after the hole (Settings.PrefixReuse), the
//     suffix's keys rotated to where it moved, so that a keystroke or a
//     syntax repair recomputes the hole and the edit only, and exact
//     passes keep what was reused. All are approximations, because
//     attention is bidirectional; see prefixKV, TestCachedMatchesExact and
//     TestKeystrokesMatchExact for what they cost.
//
// The checkpoint families engine/models/convert turns into these
// architectures, each checked by a logits parity test there
// (TestLogitsParity: a tiny checkpoint in the family's published tensor
// layout, converted, run here, against a numpy forward written from the
// family's modelling code; f32 within 1e-4, top-1 equal on every position):
//   - dream: Dream, Dream-Coder, DiffuCoder, DreamOn (DreamModel): Qwen2
//     with QKV bias, shifted logits (no diffusion.shift_logits key, as
//     llama.cpp's converter writes it), mask from config.json. DreamOn
//     (family dreamon) adds <|expand|>/<|delete|>, written as
//     dfim.expand_token_id/dfim.delete_token_id with dfim.length_mode
//     "expand-delete", and the denoiser acts on them (spans.go, after
//     DreamOn's generation code, its _sample): a committed <|expand|>
//     becomes two masked slots, a committed <|delete|> leaves the canvas,
//     so a hole grows (to 4× its slots, the canvas to the context) or
//     shrinks while it is denoised; each step is an exact pass over the
//     re-laid-out canvas (no caches across steps or requests, no experts,
//     no batching). TestExpandDelete rigs the logits to check it.
//   - llada (LLaDAModelLM): q/k rows permuted for normal RoPE as llama.cpp's
//     converter does, unshifted, mask 126336, BOS first.
//   - llada-moe (LLaDAMoEModelLM): QK-norm, 64 experts top-8 not
//     renormalised, unshifted, mask 156895.
//   - open-dcoder (Qwen2ForCausalLM, Open-dCoder 0.5B): the dream
//     architecture with tied embeddings (no output.weight), shifted like
//     Dream (Open-dLLM's generation_utils), mask from the tokenizer.
//   - coda (CoDALanguageModel, CoDA 1.7B) and tiny-a2d (Qwen3ForCausalLM,
//     Tiny-A2D 0.6B MDLM): Qwen3 under the dream architecture: no bias,
//     per-head QK-norm before RoPE (attn_q_norm/attn_k_norm, which
//     llama.cpp's dream loader refuses: these files run in dfim only), a
//     head_dim wider than embd/heads (attention.key_length); CoDA shifted
//     (its loss compares logits[:-1] with input[1:]), Tiny-A2D unshifted
//     (dllm's MDLM default right_shift_logits=False), written as
//     diffusion.shift_logits. The family is the GGUF key dfim.family.
//
// dfim infills every family the same way: the prefix, a run of mask
// tokens, the suffix, with no FIM markers, BOS first only where the file
// says the tokenizer adds one (tokenizer.ggml.add_bos_token: LLaDA). That
// is Open-dLLM's eval_infill.py framing; no other family's code read so
// far frames infilling differently (DreamOn's span tokens aside).
//
// It must not: know about documents, editors or languages (infill does),
// parse GGUF bytes (gguf does), split text into tokens (tokenizer does) or
// hold arithmetic kernels (kernels does). Samplers are pure functions in
// sample.
package native
