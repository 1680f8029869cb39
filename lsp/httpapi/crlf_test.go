package httpapi

import (
	"fmt"
	"strings"
	"testing"
)

// A prompt with Windows line endings is filled as the LF one, in CRLF
// (issue 27, item 3: the model saw the "\r"s and a CRLF prompt came back
// "" or with a fill the LF prompt does not get, such as "ss :").
func TestInfillCRLFPromptLikeLF(t *testing.T) {
	srv := newBuiltinServer(t, Options{})
	filled := 0
	for _, c := range []struct{ name, prefix, suffix string }{
		{"stack.go", goPrompt, goSuffix},
		{"len.go", "package stack\n\ntype Stack struct{ items []int }\n\n// Len returns the number of items.\nfunc (s *Stack) Len() int {\n\t", "\n}\n"},
		{"add.py", "def add(a, b):\n    ", "\n\n\ndef main():\n    print(add(1, 2))\n"},
	} {
		fill := func(eol string) string {
			t.Helper()
			body := fmt.Sprintf(`{"input_prefix":%s,"input_suffix":%s,"n_predict":24,"filename":%q,"min_confidence":0}`,
				jsonString(strings.ReplaceAll(c.prefix, "\n", eol)), jsonString(strings.ReplaceAll(c.suffix, "\n", eol)), c.name)
			status, v := post(t, srv.URL+"/infill", body)
			if status != 200 {
				t.Fatalf("%s %q: status %d: %v", c.name, eol, status, v)
			}
			content, _ := v["content"].(string)
			return content
		}
		lf, crlf := fill("\n"), fill("\r\n")
		if lf != "" {
			filled++
		}
		if want := strings.ReplaceAll(lf, "\n", "\r\n"); crlf != want {
			t.Errorf("%s: CRLF prompt filled %q, want the LF fill %q in CRLF", c.name, crlf, want)
		}
		if strings.Contains(crlf, "\r\r") || strings.Count(crlf, "\n") != strings.Count(crlf, "\r\n") {
			t.Errorf("%s: CRLF fill %q has other line endings", c.name, crlf)
		}
	}
	if filled == 0 {
		t.Errorf("no LF prompt was filled: the comparison says nothing")
	}
}
