package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchModel: `dfim bench model --json` times the built-in model on
// each canvas and prints DESIGN.md's keys; bad sizes are usage errors.
func TestBenchModel(t *testing.T) {
	code, out, errs := runCLI(t, "bench", "model", "--canvas", "32,48", "--threads", "1", "--min-time", "1ms", "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rep struct {
		PeakGFLOPS float64                      `json:"peak_gflops"`
		Results    []map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rep.Results) != 2 || rep.PeakGFLOPS <= 0 {
		t.Fatalf("%d results, peak %g:\n%s", len(rep.Results), rep.PeakGFLOPS, out)
	}
	for i, r := range rep.Results {
		for _, k := range []string{"canvas", "ms_forward", "ms_cached_step", "gflops"} {
			var v float64
			if err := json.Unmarshal(r[k], &v); err != nil || v <= 0 {
				t.Errorf("result %d: %s = %s, want a positive number", i, k, r[k])
			}
		}
	}
	if string(rep.Results[1]["canvas"]) != "48" {
		t.Errorf("second canvas %s, want 48", rep.Results[1]["canvas"])
	}

	code, out, errs = runCLI(t, "bench", "model", "--canvas", "32", "--threads", "1", "--min-time", "1ms")
	if code != exitOK || !strings.Contains(out, "ms/forward") || !strings.Contains(out, "FMA peak") {
		t.Errorf("table: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "model", "--canvas", "12x"}, `"12x" is not a canvas size`},
		{[]string{"bench", "model", "--canvas", "100000"}, "more than the model's context"},
		{[]string{"bench", "model", "--canvas", "8"}, "too small"},
		{[]string{"bench", "model", "--threads", "-1"}, "--threads"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) || strings.Count(errs, "usage:") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q and one usage line", tc.args, code, errs, exitUsage, tc.want)
		}
	}
}
