package gguf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenRefusesSpecialFiles: a named pipe given as a model is refused at
// once (opening one for reading used to wait for a writer forever, so
// `dfim model info --model FIFO` hung), and so is a device.
func TestOpenRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "model.gguf")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := Open(fifo)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), "regular file") {
			t.Errorf("Open of a FIFO: %v; want it refused as a named pipe", err)
		}
	case <-time.After(5 * time.Second):
		// Unblock the open so the test ends.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("Open of a FIFO was still waiting after 5 s")
	}

	if _, err := os.Stat("/dev/zero"); err == nil {
		if f, err := Open("/dev/zero"); err == nil || !strings.Contains(err.Error(), "a device") {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open of /dev/zero: %v; want it refused as a device", err)
		}
	}
}
