package models

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/models/hubtest"
)

// payload is deterministic file content of n bytes.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func newHub(t *testing.T) (*hubtest.Server, *Hub, *Cache) {
	t.Helper()
	srv := hubtest.New()
	t.Cleanup(srv.Close)
	return srv, &Hub{Endpoint: srv.Endpoint()}, &Cache{Root: t.TempDir()}
}

func mustRef(t *testing.T, s string) Ref {
	t.Helper()
	r, err := ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPullGGUFResumes: a connection cut mid-file leaves a partial file
// and registers nothing; the next pull asks for the rest with Range and
// finishes with the exact bytes.
func TestPullGGUFResumes(t *testing.T) {
	srv, hub, cache := newHub(t)
	data := payload(300_000, 1)
	srv.AddFile("org/tiny", "tiny-q8_0.gguf", data, true)
	srv.CutAfter("tiny-q8_0.gguf", 100_000)
	ref := mustRef(t, "hf:org/tiny/tiny-q8_0.gguf")

	_, err := cache.Pull(context.Background(), hub, ref, PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "pull again to resume") {
		t.Fatalf("first pull: err %v, want an interruption", err)
	}
	if list, _ := cache.List(); len(list) != 0 {
		t.Fatalf("registered after a failed pull: %v", list)
	}
	e, err := cache.Pull(context.Background(), hub, ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(e.Path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pulled file: %d bytes, err %v; want the %d bytes served", len(got), err, len(data))
	}
	var ranged bool
	for _, r := range srv.Requests() {
		if r.Host == "cdn" && r.Range == "bytes=100000-" {
			ranged = true
		}
	}
	if !ranged {
		t.Errorf("the second pull did not resume with Range: bytes=100000-; requests %+v", srv.Requests())
	}
	if e.Name != "hf:org/tiny/tiny-q8_0.gguf" || e.Commit != srv.Commit("org/tiny") || e.Bytes != int64(len(data)) {
		t.Errorf("entry %+v", e)
	}
	if f, ok, _ := cache.Find("org/tiny/tiny-q8_0.gguf"); !ok || f.Path != e.Path {
		t.Errorf("Find without the hf: prefix: %v %+v", ok, f)
	}
}

// TestPullRestartsWhenRangeIgnored: a server that answers a Range request
// with the whole file still yields the right file.
func TestPullRestartsWhenRangeIgnored(t *testing.T) {
	srv, hub, cache := newHub(t)
	data := payload(50_000, 2)
	srv.AddFile("org/tiny", "m.gguf", data, true)
	srv.CutAfter("m.gguf", 20_000)
	ref := mustRef(t, "hf:org/tiny/m.gguf")
	if _, err := cache.Pull(context.Background(), hub, ref, PullOptions{}); err == nil {
		t.Fatal("first pull: want an interruption")
	}
	srv.IgnoreRange(true)
	e, err := cache.Pull(context.Background(), hub, ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(e.Path); !bytes.Equal(got, data) {
		t.Fatalf("file differs from the one served (%d bytes)", len(got))
	}
}

// TestPullRefusesCorruptFile: a hash mismatch is an error, the bad file
// is gone and nothing is registered.
func TestPullRefusesCorruptFile(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/tiny", "m.gguf", payload(10_000, 3), true)
	srv.Corrupt("m.gguf", true)
	_, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/tiny/m.gguf"), PullOptions{})
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err %v, want ErrChecksum", err)
	}
	blobs, _ := os.ReadDir(filepath.Join(cache.Root, "blobs"))
	if len(blobs) != 0 {
		t.Errorf("blobs left after a mismatch: %v", blobs)
	}
	if list, _ := cache.List(); len(list) != 0 {
		t.Errorf("registered: %v", list)
	}
	if _, err := os.Stat(filepath.Join(cache.snapshotDir("org/tiny", srv.Commit("org/tiny")), "m.gguf")); err == nil {
		t.Error("the corrupt file is linked into the snapshot")
	}
}

// TestPullRefusesCorruptSmallFile: files outside LFS are checked against
// their git blob id.
func TestPullRefusesCorruptSmallFile(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/ckpt", "config.json", []byte(`{"model_type":"dream"}`), false)
	srv.AddFile("org/ckpt", "model.safetensors", payload(1000, 4), true)
	srv.Corrupt("config.json", true)
	convert := func(src, dst, q string) (string, error) {
		t.Error("converter called on a corrupt checkpoint")
		return "", nil
	}
	_, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/ckpt"), PullOptions{Convert: convert})
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("err %v, want ErrChecksum on config.json", err)
	}
}

// TestTokenStaysOnEndpoint: HF_TOKEN goes to the endpoint's host and not
// to the host a download redirects to.
func TestTokenStaysOnEndpoint(t *testing.T) {
	srv, hub, cache := newHub(t)
	hub.Token = "hf_secret"
	srv.AddFile("org/tiny", "m.gguf", payload(5000, 5), true)
	if _, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/tiny/m.gguf"), PullOptions{}); err != nil {
		t.Fatal(err)
	}
	var hub0, cdn int
	for _, r := range srv.Requests() {
		switch r.Host {
		case "hub":
			if r.Authorization != "Bearer hf_secret" {
				t.Errorf("hub request %s without the token: %q", r.Path, r.Authorization)
			}
			hub0++
		case "cdn":
			if r.Authorization != "" {
				t.Errorf("the token went to the CDN host: %q on %s", r.Authorization, r.Path)
			}
			cdn++
		}
	}
	if hub0 == 0 || cdn == 0 {
		t.Errorf("want requests to both hosts, got hub %d, cdn %d", hub0, cdn)
	}
}

// TestPullConvertsCheckpoint: a safetensors checkpoint is downloaded into
// a snapshot folder the converter reads, and its GGUF registered under the
// name with the quantization.
func TestPullConvertsCheckpoint(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/ckpt", "config.json", []byte(`{"model_type":"dream"}`), false)
	srv.AddFile("org/ckpt", "tokenizer.json", []byte(`{"model":{}}`), false)
	srv.AddFile("org/ckpt", "model.safetensors", payload(4000, 6), true)
	srv.AddFile("org/ckpt", "README.md", []byte("# ckpt"), false)
	srv.AddFile("org/ckpt", "sub/other.safetensors", payload(10, 7), true)
	var seen []string
	convert := func(src, dst, q string) (string, error) {
		ents, _ := os.ReadDir(src)
		for _, e := range ents {
			seen = append(seen, e.Name())
		}
		if q != "q8_0" {
			t.Errorf("quant %q, want q8_0", q)
		}
		w, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
		if err != nil || len(w) != 4000 {
			t.Errorf("model.safetensors through the snapshot: %d bytes, %v", len(w), err)
		}
		return "dream", os.WriteFile(dst, []byte("GGUF"), 0o644)
	}
	e, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/ckpt"), PullOptions{Quant: "q8_0", Convert: convert})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "config.json,model.safetensors,tokenizer.json" {
		t.Errorf("the converter saw %v", seen)
	}
	if e.Name != "hf:org/ckpt:q8_0" || e.Family != "dream" || filepath.Base(e.Path) != "q8_0.gguf" {
		t.Errorf("entry %+v", e)
	}
	// A second pull finds everything in the cache: no download, no conversion.
	before := len(srv.Requests())
	convert2 := func(src, dst, q string) (string, error) { t.Error("converted twice"); return "", nil }
	if _, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/ckpt"), PullOptions{Quant: "q8_0", Convert: convert2}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()) - before; n != 1 {
		t.Errorf("second pull made %d requests, want 1 (the file list)", n)
	}
}

// TestPullConverterFails: a failed conversion registers nothing and
// leaves no GGUF behind.
func TestPullConverterFails(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/ckpt", "config.json", []byte(`{}`), false)
	srv.AddFile("org/ckpt", "model.safetensors", payload(100, 8), true)
	convert := func(src, dst, q string) (string, error) {
		os.WriteFile(dst, []byte("half"), 0o644)
		return "", errors.New("unknown architecture")
	}
	_, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/ckpt"), PullOptions{Convert: convert})
	if err == nil || !strings.Contains(err.Error(), "unknown architecture") {
		t.Fatalf("err %v", err)
	}
	if list, _ := cache.List(); len(list) != 0 {
		t.Errorf("registered: %v", list)
	}
	matches, _ := filepath.Glob(filepath.Join(cache.Root, "gguf", "*", "*", "*"))
	if len(matches) != 0 {
		t.Errorf("left behind: %v", matches)
	}
}

// TestPullNoCheckpoint: a repository with only GGUF files says which to pull.
func TestPullNoCheckpoint(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/g", "model-q4_0.gguf", payload(10, 9), true)
	_, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/g"), PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "hf:org/g/model-q4_0.gguf") {
		t.Fatalf("err %v, want a hint naming the GGUF file", err)
	}
	_, err = cache.Pull(context.Background(), hub, mustRef(t, "hf:org/g/other.gguf"), PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "model-q4_0.gguf") {
		t.Fatalf("err %v, want the repository's .gguf files listed", err)
	}
	_, err = cache.Pull(context.Background(), hub, mustRef(t, "hf:org/missing"), PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err %v, want a 404", err)
	}
}

// TestPullOffline: HF_HUB_OFFLINE uses the cache alone: a clear error for
// what was never pulled, and a pull of what was, with the Hub gone.
func TestPullOffline(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/tiny", "m.gguf", payload(1000, 10), true)
	ref := mustRef(t, "hf:org/tiny/m.gguf")
	off := &Hub{Endpoint: hub.Endpoint, Offline: true}
	if _, err := cache.Pull(context.Background(), off, ref, PullOptions{}); !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "unset HF_HUB_OFFLINE") {
		t.Fatalf("offline pull of nothing: %v", err)
	}
	if len(srv.Requests()) != 0 {
		t.Fatalf("offline mode made requests: %+v", srv.Requests())
	}
	if _, err := cache.Pull(context.Background(), hub, ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	e, err := cache.Pull(context.Background(), off, ref, PullOptions{})
	if err != nil {
		t.Fatalf("offline pull of a cached file: %v", err)
	}
	if _, err := os.Stat(e.Path); err != nil {
		t.Fatal(err)
	}
}

// TestPullChecksFreeSpace: a pull that would not fit stops before
// downloading anything.
func TestPullChecksFreeSpace(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/tiny", "m.gguf", payload(10_000, 11), true)
	old := freeBytes
	freeBytes = func(string) (int64, error) { return 5000, nil }
	defer func() { freeBytes = old }()
	_, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/tiny/m.gguf"), PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "free") {
		t.Fatalf("err %v, want a disk-space error", err)
	}
	for _, r := range srv.Requests() {
		if r.Host == "cdn" {
			t.Fatalf("downloaded despite the lack of space: %+v", r)
		}
	}
}

// TestCancelLeavesPartial: a cancelled pull (Ctrl-C) keeps the bytes that
// arrived for the next pull.
func TestCancelLeavesPartial(t *testing.T) {
	srv, hub, cache := newHub(t)
	data := payload(200_000, 12)
	srv.AddFile("org/tiny", "m.gguf", data, true)
	ctx, cancel := context.WithCancel(context.Background())
	p := &cancelAt{at: 64 << 10, cancel: cancel}
	_, err := cache.Pull(ctx, hub, mustRef(t, "hf:org/tiny/m.gguf"), PullOptions{Progress: p})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	parts, _ := filepath.Glob(filepath.Join(cache.Root, "blobs", "*.partial"))
	if len(parts) != 1 {
		t.Fatalf("partials %v, want one", parts)
	}
	if st, _ := os.Stat(parts[0]); st.Size() == 0 {
		t.Fatal("the partial file is empty")
	}
	e, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/tiny/m.gguf"), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(e.Path); !bytes.Equal(got, data) {
		t.Fatal("resumed file differs")
	}
}

type cancelAt struct {
	at, n  int64
	cancel func()
}

func (c *cancelAt) Start(string, int64, int64) {}
func (c *cancelAt) Finish(error)               {}
func (c *cancelAt) Advance(n int64) {
	c.n += n
	if c.n >= c.at {
		c.cancel()
	}
}

// TestRemoveKeepsShared: two names on one snapshot share its blobs;
// removing one keeps them, removing both frees them.
func TestRemoveKeepsShared(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/ckpt", "config.json", []byte(`{}`), false)
	srv.AddFile("org/ckpt", "model.safetensors", payload(3000, 13), true)
	conv := func(src, dst, q string) (string, error) { return "dream", os.WriteFile(dst, []byte(q), 0o644) }
	a, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/ckpt"), PullOptions{Quant: "q8_0", Convert: conv})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/ckpt"), PullOptions{Quant: "f16", Convert: conv})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cache.Remove(a.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.Path); err == nil {
		t.Error("the removed model's GGUF is still there")
	}
	if blobs, _ := os.ReadDir(filepath.Join(cache.Root, "blobs")); len(blobs) != 2 {
		t.Errorf("blobs after removing one of two: %d, want 2", len(blobs))
	}
	_, freed, err := cache.Remove(b.Name)
	if err != nil {
		t.Fatal(err)
	}
	if blobs, _ := os.ReadDir(filepath.Join(cache.Root, "blobs")); len(blobs) != 0 || freed == 0 {
		t.Errorf("blobs after removing both: %d (freed %d), want 0", len(blobs), freed)
	}
	if _, _, err := cache.Remove(b.Name); err == nil {
		t.Error("removing a name twice: no error")
	}
}

func TestParseRef(t *testing.T) {
	for _, tc := range []struct{ in, name, repo, rev, file, err string }{
		{in: "open-dcoder-0.5b", name: "open-dcoder-0.5b", repo: "fredzzp/open-dcoder-0.5B", rev: "main"},
		{in: "LLaDA-8B", name: "llada-8b", repo: "GSAI-ML/LLaDA-8B-Instruct", rev: "main"},
		{in: "hf:a/b", name: "hf:a/b", repo: "a/b", rev: "main"},
		{in: "hf:a/b@v1.0", name: "hf:a/b@v1.0", repo: "a/b", rev: "v1.0"},
		{in: "hf:a/b/x/y.gguf", name: "hf:a/b/x/y.gguf", repo: "a/b", rev: "main", file: "x/y.gguf"},
		{in: "hf:a/b/y.gguf@abc", name: "hf:a/b/y.gguf@abc", repo: "a/b", rev: "abc", file: "y.gguf"},
		{in: "nope", err: "unknown model"},
		{in: "hf:a", err: "want hf:ORG/NAME"},
		{in: "hf:a/b/c.bin", err: "must be a .gguf"},
		{in: "hf:a/b/../c.gguf", err: "bad file name"},
		{in: "hf:a/b@../x", err: "bad revision"},
	} {
		r, err := ParseRef(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || r.Name != tc.name || r.Repo != tc.repo || r.Revision != tc.rev || r.File != tc.file {
			t.Errorf("%s: %+v, %v", tc.in, r, err)
		}
	}
}

// TestProgressLines: without a terminal, one line per file.
func TestProgressLines(t *testing.T) {
	srv, hub, cache := newHub(t)
	srv.AddFile("org/ckpt", "config.json", []byte(`{}`), false)
	srv.AddFile("org/ckpt", "model.safetensors", payload(3000, 14), true)
	var buf bytes.Buffer
	conv := func(src, dst, q string) (string, error) { return "", os.WriteFile(dst, nil, 0o644) }
	if _, err := cache.Pull(context.Background(), hub, mustRef(t, "hf:org/ckpt"), PullOptions{Progress: NewProgress(&buf, false), Convert: conv}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "config.json ok") || !strings.HasPrefix(lines[1], "model.safetensors ok (3 kB)") {
		t.Errorf("progress:\n%s", buf.String())
	}
}

func TestDefaultCache(t *testing.T) {
	env := map[string]string{"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"}
	c, _ := DefaultCache(func(k string) string { return env[k] })
	if c.Root != "/x/cache/dfim/models" {
		t.Errorf("root %s", c.Root)
	}
	env["XDG_CACHE_HOME"] = ""
	c, _ = DefaultCache(func(k string) string { return env[k] })
	if c.Root != "/home/u/.cache/dfim/models" {
		t.Errorf("root %s", c.Root)
	}
}
