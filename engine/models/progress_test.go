package models

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestProgressBar: on a terminal the line is redrawn in place with the
// bytes, the rate and the time left.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	p := &progress{w: &buf, tty: true, now: func() time.Time { return clock }}
	p.Start("model.safetensors", 4_000_000, 1_000_000) // resumed a quarter in
	clock = clock.Add(time.Second)
	p.Advance(1_000_000)
	frame := buf.String()[strings.LastIndexByte(buf.String(), '\r'):]
	for _, want := range []string{"model.safetensors", "50%", "2 MB/4 MB", "1 MB/s", "2s left"} {
		if !strings.Contains(frame, want) {
			t.Errorf("frame %q lacks %q", frame, want)
		}
	}
	p.Finish(nil)
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Error("the finished bar does not end its line")
	}
}

// TestPullShortName: a short name pulls the table's repository and
// converts to the table's quantization, registered under the short name.
func TestPullShortName(t *testing.T) {
	srv, hub, cache := newHub(t)
	k, _ := Lookup("open-dcoder-0.5b")
	srv.AddFile(k.Repo, "config.json", []byte(`{}`), false)
	srv.AddFile(k.Repo, "model.safetensors", payload(100, 15), true)
	var quant string
	conv := func(src, dst, q string) (string, error) {
		quant = q
		return "open-dcoder", os.WriteFile(dst, nil, 0o644)
	}
	e, err := cache.Pull(context.Background(), hub, mustRef(t, "open-dcoder-0.5b"), PullOptions{Convert: conv})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "open-dcoder-0.5b" || e.Repo != k.Repo || quant != k.Quant || e.Quant != k.Quant {
		t.Errorf("entry %+v, converted to %q; want %s from %s in %s", e, quant, k.Name, k.Repo, k.Quant)
	}
}
