package lsp

import (
	"encoding/json"
	"testing"
)

// TestModelSettingTakesPulledNames: a name pulled with `dfim model pull`
// passes (cmd/dfim resolves it when it loads the engine); a path must
// still name a file.
func TestModelSettingTakesPulledNames(t *testing.T) {
	for _, name := range []string{"open-dcoder-0.5b", "hf:org/name", "hf:org/name/f.gguf@v1"} {
		s, err := DefaultSettings().Apply(json.RawMessage(`{"model":`+mustJSON(name)+`}`), nil)
		if err != nil || s.Model != name {
			t.Errorf("model %q: %v (got %q)", name, err, s.Model)
		}
	}
	for _, path := range []string{"/no/such.gguf", "no/such", "such.gguf"} {
		if _, err := DefaultSettings().Apply(json.RawMessage(`{"model":`+mustJSON(path)+`}`), nil); err == nil {
			t.Errorf("model %q: accepted a missing file", path)
		}
	}
}
