package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/models/convert/convtest"
)

// TestModelPullConvertsCheckpoint: a tiny Dream checkpoint on the
// stand-in Hub (shards served through the CDN host, one cut mid-file and
// resumed) is pulled, converted to GGUF by engine/models/convert, passes
// dfim model info's checks, and dfim fill --model NAME answers from it as
// from the converted file.
func TestModelPullConvertsCheckpoint(t *testing.T) {
	srv := hubEnv(t)
	files := convtest.Families[0].Files() // dream, two shards
	for name, data := range files {
		srv.AddFile("dfim-test/tiny-dream", name, data, strings.HasSuffix(name, ".safetensors"))
	}
	srv.CutAfter("model-00002-of-00002.safetensors", 1000)
	const ref = "hf:dfim-test/tiny-dream"
	if code, _, stderr := runCLI(t, "model", "pull", "--quant", "q8_0", ref); code != exitFailed || !strings.Contains(stderr, "resume") {
		t.Fatalf("pull with a cut: exit %d, %q", code, stderr)
	}
	code, out, stderr := runCLI(t, "model", "pull", "--quant", "q8_0", ref)
	if code != exitOK {
		t.Fatalf("pull: exit %d\n%s", code, stderr)
	}
	name, path, _ := strings.Cut(strings.TrimSpace(out), "\t")
	if name != ref+":q8_0" {
		t.Fatalf("registered as %q, want %s:q8_0", name, ref)
	}
	var ranged bool
	for _, r := range srv.Requests() {
		ranged = ranged || (r.Host == "cdn" && r.Range == "bytes=1000-")
	}
	if !ranged {
		t.Errorf("the cut shard was not resumed with Range: %+v", srv.Requests())
	}
	if code, out, stderr := runCLI(t, "model", "info", name); code != exitOK || !strings.Contains(out, "architecture  dream") || !strings.Contains(out, "family        dream; infilling prefix + masks + suffix, length fixed") {
		t.Fatalf("model info %s: exit %d\n%s%s", name, code, out, stderr)
	}
	pos := goFile(t) + ":5:2"
	fill := func(model string) (int, fillJSON) {
		code, out, stderr := runCLI(t, "fill", "--json", "--model", model, "--seed", "1", pos)
		var j fillJSON
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("fill --model %s: exit %d, stdout %q: %v\n%s", model, code, out, err, stderr)
		}
		j.LatencyMS = 0
		return code, j
	}
	wantCode, want := fill(path)
	if code, got := fill(name); code != wantCode || !reflect.DeepEqual(got, want) {
		t.Errorf("fill --model %s: exit %d, %+v; from the file: exit %d, %+v", name, code, got, wantCode, want)
	}
}

// TestModelPullEveryFamily: a tiny checkpoint of each family dfim
// converts (engine/models/convert/convtest: random weights in the
// family's published layout) is served by the stand-in Hub, pulled and
// converted; dfim model info passes its checks and names the family, and
// dfim fill --model NAME answers from it (random weights fill noise, so
// "no suggestion worth showing" is as good an answer as any text: the
// point is that every step runs).
func TestModelPullEveryFamily(t *testing.T) {
	srv := hubEnv(t)
	pos := goFile(t) + ":5:2"
	for _, c := range convtest.Families {
		t.Run(c.Name(), func(t *testing.T) {
			repo := "dfim-test/tiny-" + c.Name()
			for name, data := range c.Files() {
				srv.AddFile(repo, name, data, strings.HasSuffix(name, ".safetensors"))
			}
			ref := "hf:" + repo
			code, out, stderr := runCLI(t, "model", "pull", ref)
			if code != exitOK {
				t.Fatalf("pull %s: exit %d\n%s", ref, code, stderr)
			}
			name, _, _ := strings.Cut(strings.TrimSpace(out), "\t")
			code, out, stderr = runCLI(t, "model", "info", name)
			if code != exitOK || !strings.Contains(out, "family        "+c.Name()+";") {
				t.Fatalf("model info %s: exit %d, want the checks passed and family %s\n%s%s", name, code, c.Name(), out, stderr)
			}
			if c.DreamOn && !strings.Contains(out, fmt.Sprintf("infilling BOS + prefix + masks + suffix + EOS, length expand-delete (expand %d, delete %d)", convtest.Expand, convtest.Delete)) {
				t.Errorf("model info %s: the length mode is not expand-delete\n%s", name, out)
			}
			code, out, stderr = runCLI(t, "fill", "--json", "--explain", "--model", name, "--seed", "1", pos)
			var j fillJSON
			if err := json.Unmarshal([]byte(out), &j); err != nil || (code != exitOK && code != exitFailed) {
				t.Fatalf("fill --model %s: exit %d, stdout %q (%v)\n%s", name, code, out, err, stderr)
			}
			// --explain lists what the engine returned: the model ran.
			if code == exitFailed && (!strings.Contains(stderr, "no suggestion worth showing") || !strings.Contains(stderr, "call 1, candidate 1")) {
				t.Errorf("fill --model %s: exit 1 with %q, want the model's fill, then an answer or plainly no suggestion worth showing", name, stderr)
			}
		})
	}
}
