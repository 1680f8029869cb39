// Package native is dfim's in-process diffusion engine: it loads GGUF
// models of the llada and dream architectures, tokenizes with their
// byte-level BPE, runs the bidirectional transformer on the CPU and
// denoises canvases with the samplers of LLaDA, Dream and Fast-dLLM.
// It registers itself as the "native" engine.
package native
