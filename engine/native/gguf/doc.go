// Package gguf reads and writes GGUF v3 model files, the format llama.cpp
// loads: a header, ordered key/value metadata, tensor descriptions and
// aligned tensor data.
//
// It owns the byte layout: every count, length, size and offset read from a
// file is checked against the file's size before it is used, so a truncated
// or corrupt file gives an error that names the file and what is wrong,
// never a panic or a huge allocation. Open memory-maps the file read-only;
// tensor Data are slices of that mapping, valid until Close.
//
// It knows the byte sizes of every ggml tensor type, so files quantized with
// types dfim cannot compute with still open and can be listed; only reading
// such a tensor as float32 is an error. It converts f16, bf16 and q8_0
// exactly as ggml does.
//
// It must not know what the tensors mean (architectures, tokenizers): that
// is the job of the engine packages that use it.
package gguf
