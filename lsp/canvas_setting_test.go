package lsp

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestCanvasTokensSetting: canvasTokens takes 0 (the latency budget), -1
// (the whole file) or a token count, and refuses anything below -1.
func TestCanvasTokensSetting(t *testing.T) {
	base := DefaultSettings()
	if base.CanvasTokens != 0 {
		t.Errorf("default canvasTokens %d, want 0 (the latency budget)", base.CanvasTokens)
	}
	for _, n := range []int{-1, 0, 4096} {
		got, err := base.Apply(json.RawMessage(`{"canvasTokens":`+mustJSON(n)+`}`), nil)
		if err != nil || got.CanvasTokens != n {
			t.Errorf("canvasTokens %d: got %d, %v", n, got.CanvasTokens, err)
		}
	}
	for _, bad := range []string{`{"canvasTokens":-2}`, `{"canvasTokens":"whole"}`} {
		got, err := base.Apply(json.RawMessage(bad), nil)
		var se *SettingError
		if !errors.As(err, &se) || got.CanvasTokens != 0 {
			t.Errorf("%s: got %d, %v; want a SettingError and no change", bad, got.CanvasTokens, err)
		}
	}
}
