// Package sample holds the native engine's samplers: pure functions over
// logits and confidences, with a caller-seeded random source, that decide
// which token a masked position gets and which masked positions a
// denoising step commits.
//
// It owns: temperature and top-p sampling, the confidence measures of
// LLaDA and Dream (low-confidence, maskgit_plus, topk_margin, entropy,
// origin), Fast-dLLM threshold selection, left-to-right run selection, the
// per-step commit schedule, the pad rule of a hole (everything after a
// committed end token is pad), and the decoding experts whose offsets are
// added to the model's logits: the copy expert (what followed the longest
// match of a slot's neighbours elsewhere in the canvas and its sources,
// matched on bytes) and the identifier expert (names in scope that
// continue the slot's word).
//
// It must not: run a model, know about GGUF or tokenizers (experts find
// tokens through the Vocab interface), keep state
// between calls, or read a global random source (every function that draws
// takes its *rand.Rand, so a seed reproduces a fill).
package sample
