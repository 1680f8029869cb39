package main

import (
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestServeHTTPUsage: --http binds loopback unless told otherwise, and an
// address other machines reach needs --allow-remote and an API key.
func TestServeHTTPUsage(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("sk-test\n"), 0o600)
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--http", "0.0.0.0:0"}, "--allow-remote"},
		{[]string{"serve", "--http", "0.0.0.0:0", "--allow-remote"}, "--api-key-file"},
		{[]string{"serve", "--http", "nonsense"}, "host:port"},
		{[]string{"serve", "--api-key-file", key}, "goes with --http"},
		{[]string{"serve", "--http-queue", "3"}, "goes with --http"},
		{[]string{"serve", "--allow-remote"}, "--listen or --http"},
		{[]string{"serve", "--http", ":0", "--api-key-file", empty}, "empty"},
		{[]string{"serve", "--http", ":0", "--http-parallel", "0"}, "from 1"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("dfim %s: exit %d, stderr %q; want a usage error naming %s", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// TestServeHTTPRemoteWithoutKeyNeverBinds: --http on an address other
// machines reach, with --allow-remote but no API key, is refused before
// the port is bound (issue 27, item 6: it bound, then refused). The test
// holds the port itself: a dfim that tried to bind it would fail with
// "address in use" instead of naming --api-key-file.
func TestServeHTTPRemoteWithoutKeyNeverBinds(t *testing.T) {
	held, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on 0.0.0.0 here: %v", err)
	}
	defer held.Close()
	addr := "0.0.0.0:" + strconv.Itoa(held.Addr().(*net.TCPAddr).Port)
	for _, args := range [][]string{
		{"serve", "--http", addr, "--allow-remote"},
		{"serve", "--http", addr, "--allow-remote", "--stdio"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "--api-key-file") || strings.Contains(stderr, "in use") {
			t.Errorf("dfim %s: exit %d, stderr %q; want a usage error naming --api-key-file, before binding", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestServeHTTPCORSFlag: --cors takes web origins, repeated or
// comma-separated, and only with --http.
func TestServeHTTPCORSFlag(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	h := addHTTPFlags(fs)
	if err := fs.Parse([]string{"--http", ":0", "--cors", "http://localhost:3000, https://editor.example", "--cors", "*"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://localhost:3000", "https://editor.example", "*"}; !slices.Equal(h.cors, want) {
		t.Errorf("--cors gave %q, want %q", h.cors, want)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--http", ":0", "--cors", "editor.example"}, "not a web origin"},
		{[]string{"serve", "--cors", "http://localhost:3000"}, "goes with --http"},
		{[]string{"serve", "--http-client-queue", "2"}, "goes with --http"},
		{[]string{"serve", "--http", ":0", "--http-client-queue", "-1"}, "from 0"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("dfim %s: exit %d, stderr %q; want a usage error naming %s", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}
