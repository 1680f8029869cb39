//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSpecialFilesRefused: fill and context read only a regular file of at
// most maxSourceBytes, and model info opens only a regular file (anything
// else named as the file is a usage error, exit 2). Before,
// `dfim fill /dev/zero:1:1` read until memory ran out, and a FIFO as the
// file or as --model made the command wait for a writer forever.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.go")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	// A sparse file past the limit: cheap to make, too big to read.
	huge := filepath.Join(dir, "huge.go")
	if f, err := os.Create(huge); err != nil {
		t.Fatal(err)
	} else {
		if err := f.Truncate(maxSourceBytes + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	cases := []struct {
		name string
		args []string
		code int
		err  []string // all in stderr
	}{
		{"fill_dev_zero", []string{"fill", "--engine", "filltest", "/dev/zero:1:1"}, exitUsage,
			[]string{"/dev/zero is not a regular file", "give a source file"}},
		{"fill_fifo", []string{"fill", "--engine", "filltest", fifo + ":1:1"}, exitUsage,
			[]string{"not a regular file", "give a source file"}},
		{"fill_huge", []string{"fill", "--engine", "filltest", huge + ":1:1"}, exitUsage,
			[]string{"more than the 16777216 allowed", "at most 16 MiB"}},
		{"context_fifo", []string{"context", "--root", dir, fifo + ":1:1"}, exitUsage,
			[]string{"not a regular file"}},
		{"model_info_fifo", []string{"model", "info", "--model", fifo}, exitUsage,
			[]string{"named pipe (FIFO), not a regular file", "give the path of a .gguf model file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			done := make(chan int, 1)
			captureStdout(t, func() {
				go func() { done <- run(tc.args, &bytes.Buffer{}, &stderr) }()
				select {
				case code := <-done:
					done <- code
				case <-time.After(10 * time.Second):
					// Open the FIFO's other end so the command ends.
					if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
						w.Close()
					}
					<-done
					t.Fatalf("dfim %v was still running after 10 s", tc.args)
				}
			})
			if code := <-done; code != tc.code {
				t.Errorf("dfim %v: exit %d, want %d; stderr %q", tc.args, code, tc.code, stderr.String())
			}
			for _, want := range tc.err {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("dfim %v: stderr %q lacks %q", tc.args, stderr.String(), want)
				}
			}
		})
	}
}
