// Package builtin embeds dfim's own diffusion model (trained by train/), so
// that dfim works with nothing to download. The model file is
// data/model.gguf; train/ writes it there.
package builtin

import (
	"embed"
	"io/fs"
)

//go:embed all:data
var data embed.FS

// Name is the file name the built-in model has in messages.
const Name = "builtin:model.gguf"

// Model returns the bytes of the built-in GGUF model, or ok=false when this
// build carries none.
func Model() (gguf []byte, ok bool) {
	b, err := fs.ReadFile(data, "data/model.gguf")
	if err != nil {
		return nil, false
	}
	return b, true
}

// Golden returns the parity file train/ exported with the model (token ids
// in, logits out for a fixed canvas), or ok=false.
func Golden() (b []byte, ok bool) {
	b, err := fs.ReadFile(data, "data/golden.json")
	if err != nil {
		return nil, false
	}
	return b, true
}
