package native

import (
	"os"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
)

// qwen05Config is Qwen2.5-Coder-0.5B's shape as a dream model: d=896, 24
// layers, 14 heads sharing 2 key/value heads, feed-forward 4864, 151,936
// tokens, a 32K context (so a canvas is the whole file, as in issue 29).
var qwen05Config = tinyConfig{arch: "dream", embd: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864,
	context: 32768, vocab: 151936, typ: gguf.TypeQ8_0, seed: 29}

// TestWriteRealShape writes a random-weight q8_0 model of
// Qwen2.5-Coder-0.5B's shape (about 0.5 GB) to the path in
// DFIM_REALSHAPE, for `dfim bench fill --model` and the issue-29
// measurements; without the variable it does nothing. Its vocabulary is
// the tiny models' bytes padded with filler tokens, so a canvas is one
// token per byte.
//
//	DFIM_REALSHAPE=/tmp/qwen05-q8_0.gguf go test -run TestWriteRealShape ./engine/native/
func TestWriteRealShape(t *testing.T) {
	path := os.Getenv("DFIM_REALSHAPE")
	if path == "" {
		t.Skip("set DFIM_REALSHAPE=FILE.gguf to write the 0.5B-shaped model there")
	}
	writeLargeModel(t, path, "realshape", qwen05Config)
}
