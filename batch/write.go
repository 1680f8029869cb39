package batch

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A snapshot is a file as the run read it.
type snapshot struct {
	path string
	data []byte
	hash [32]byte
	mode fs.FileMode
}

func readSnapshot(path string) (*snapshot, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &snapshot{path: path, data: data, hash: sha256.Sum256(data), mode: info.Mode().Perm()}, nil
}

// errChanged says a file changed on disk while the run worked on it.
type errChanged struct{ path string }

func (e errChanged) Error() string {
	return fmt.Sprintf("%s changed on disk while dfim was filling it; left as it is — run dfim batch again", e.path)
}

// replaceIfUnchanged writes data over s.path unless the file no longer has
// s's content. The new content goes to a temporary file in the same folder,
// which is synced and renamed over the original with its mode, so a crash
// leaves either the old file or the new one, never a mix.
func replaceIfUnchanged(s *snapshot, data []byte) error {
	cur, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("re-reading %s before writing: %w", s.path, err)
	}
	if sha256.Sum256(cur) != s.hash {
		return errChanged{s.path}
	}
	return atomicWrite(s.path, data, s.mode)
}

func atomicWrite(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".dfim-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file next to %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("keeping the mode of %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not all file systems support it
		d.Close()
	}
	return nil
}

// restore puts back a file's original content, unless someone edited it
// after the run wrote it (then their edit wins and the caller reports it).
func restore(s *snapshot, written []byte) error {
	cur, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, written) {
		return errChanged{s.path}
	}
	return atomicWrite(s.path, s.data, s.mode)
}
