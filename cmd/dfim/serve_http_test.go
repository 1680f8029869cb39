package main

import (
	"os"
	"path/filepath"
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
