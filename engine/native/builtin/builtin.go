// Package builtin embeds dfim's own diffusion model (trained by train/), so
// that dfim works with nothing to download. The model file is
// data/model.gguf; train/ writes it there, with data/golden.json beside it
// (the parity file only engine/native's tests read, so it is not embedded).
package builtin

import _ "embed"

//go:embed data/model.gguf
var model []byte

// Name is the file name the built-in model has in messages.
const Name = "builtin:model.gguf"

// Model returns the bytes of the built-in GGUF model, or ok=false when this
// build carries none.
func Model() (gguf []byte, ok bool) {
	return model, len(model) > 0
}
