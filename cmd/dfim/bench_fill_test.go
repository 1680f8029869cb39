package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchFill: `dfim bench fill --json` times a cold and a warm one-line
// and block suggestion of the built-in model, each with its engine calls
// and steps; the table names its columns; bad flags are usage errors.
func TestBenchFill(t *testing.T) {
	code, out, errs := runCLI(t, "bench", "fill", "--threads", "1", "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rep benchFillReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Shape+"/"+r.Request)
		if r.Ms <= 0 || r.Calls < 1 || r.Steps < 1 || r.MsFirstPass <= 0 || r.CanvasTokens <= 0 {
			t.Errorf("%s %s: %+v; want a time, at least one call and step, a first pass and a canvas", r.Shape, r.Request, r)
		}
	}
	if strings.Join(got, " ") != "line/cold line/warm block/cold block/warm" || rep.Repeat != 1 {
		t.Errorf("results %v, repeat %d; want line and block, cold and warm, once", got, rep.Repeat)
	}

	code, out, errs = runCLI(t, "bench", "fill", "--threads", "1", "--canvas", "128")
	if code != exitOK || !strings.Contains(out, "ms/first") || !strings.Contains(out, "at most 128 tokens") {
		t.Errorf("table: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, args := range [][]string{{"bench", "fill", "--repeat", "0"}, {"bench", "fill", "--canvas", "-2"}, {"bench", "fill", "extra"}} {
		if code, _, errs := runCLI(t, args...); code != exitUsage || strings.Count(errs, "usage:") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errs)
		}
	}
}

// TestBenchFillCases: every case's text is in the sample, so a warm
// request types the first character of what was cut.
func TestBenchFillCases(t *testing.T) {
	for _, c := range benchFillCases {
		cold, pos, err := c.document(0)
		if err != nil {
			t.Fatal(err)
		}
		warm, wpos, err := c.document(1)
		if err != nil {
			t.Fatal(err)
		}
		if warm != cold[:pos]+c.cut[:1]+cold[pos:] || wpos != pos+1 {
			t.Errorf("%s: the warm document is not the cold one with %q typed at the cursor", c.shape, c.cut[:1])
		}
	}
}

// TestBenchFillLlamaBench: with --llama-bench, llama-bench's JSON timing
// of a 256-token pass is read, and every suggestion gets its ratio; a
// binary that prints no timing is an error that says what was run.
func TestBenchFillLlamaBench(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "llama-bench")
	script := "#!/bin/sh\ncase \"$*\" in *'-p 256 -n 0'*'-o json'*) echo '[{\"n_prompt\": 256, \"avg_ns\": 100000000}]';; *) exit 3;; esac\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "bench", "fill", "--threads", "1", "--json", "--llama-bench", fake)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rep benchFillReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.LlamaCppMs != 100 {
		t.Errorf("llama.cpp %g ms, want the fake's 100", rep.LlamaCppMs)
	}
	for _, r := range rep.Results {
		if r.LlamaCppRatio != r.Ms/100 {
			t.Errorf("%s %s: ratio %g for %g ms, want %g", r.Shape, r.Request, r.LlamaCppRatio, r.Ms, r.Ms/100)
		}
	}
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "bench", "fill", "--llama-bench", broken); code == exitOK || !strings.Contains(errs, "no timing") {
		t.Errorf("a llama-bench printing no JSON: exit %d, stderr %q; want an error saying so", code, errs)
	}
}
