// Package convert turns Hugging Face diffusion-coder checkpoints
// (safetensors, config.json, tokenizer.json) into GGUF files that the
// native engine opens.
//
// For the families llama.cpp's convert_hf_to_gguf.py converts (Dream,
// LLaDA, LLaDA-MoE) it writes the same tensor names, tensor types and
// metadata keys, so the file also runs in llama.cpp; TestLlamaCppLayout
// checks them against what that script writes, and TestRunsInLlamaCpp
// (with DFIM_LLAMACPP_LOGITS, the probe engine/native/testdata/llamacpp
// builds) runs the files in llama.cpp against the reference forward. Families llama.cpp does not
// know (Open-dCoder, CoDA, Tiny-A2D) become the closest architecture the
// native engine runs, dream, with diffusion.shift_logits saying how their
// logits align and dfim.family naming the family (engine/native/doc.go
// says what each needs and how it is checked).
//
// Safetensors files are memory-mapped; tensors already in the output type
// are written from the mapping without a copy, so a 7B checkpoint kept as
// published costs little heap. Converted tensors (q8_0, or f32 norms) are
// held in memory until the file is written, because gguf.Writer lays out
// the whole file at once.
//
// It must not: download (the pull command does), or know about the
// engine's forward pass beyond the names and keys it reads.
package convert
