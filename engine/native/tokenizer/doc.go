// Package tokenizer turns code into the token ids of a model and back: the
// byte-level BPE of GPT-2, Qwen2 and LLaMA 3 style vocabularies, read from a
// GGUF file's tokenizer.ggml.* metadata.
//
// It owns the pre-tokenizers, written by hand because Go's regexp has no
// look-ahead: each is a scanner over runes that reproduces its regular
// expression exactly (qwen2 for the built-in model, Dream, DiffuCoder and
// Open-dCoder; llama3 for LLaDA; gpt2 otherwise), the BPE merges by rank
// with a bounded cache of words, the GPT-2 byte↔unicode mapping, and the
// special tokens (mask, pad, EOS, BOS) a diffusion model needs.
//
// Encode never adds BOS or EOS and never reads special tokens written in the
// text as specials: code may well contain "<|endoftext|>". Callers tokenize
// prefix and suffix separately, so a hole starts and ends on token
// boundaries; nothing here needs to know about holes.
//
// It must not know about models' tensors or about documents.
package tokenizer
