package httpapi

import (
	"fmt"
	"testing"
)

// max_tokens / n_predict above what the model's context holds is capped
// by infill, not a 500 on every request (issue 27, item 9: "the canvas
// needs 316 tokens").
func TestMaxTokensAboveTheContextCapped(t *testing.T) {
	srv := newBuiltinServer(t, Options{})
	for _, c := range []struct{ path, body string }{
		{"/infill", fmt.Sprintf(`{"input_prefix":%s,"input_suffix":%s,"n_predict":400,"filename":"stack.go"}`, jsonString(goPrompt), jsonString(goSuffix))},
		{"/v1/completions", fmt.Sprintf(`{"prompt":%s,"suffix":%s,"max_tokens":400}`, jsonString(goPrompt), jsonString(goSuffix))},
	} {
		if status, v := post(t, srv.URL+c.path, c.body); status != 200 {
			t.Errorf("%s with 400 tokens: status %d: %v, want 200", c.path, status, v)
		}
	}
}
