package batch

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A snapshot is a file as the run read it.
type snapshot struct {
	path string
	// target is the file written: path with its symlinks resolved, so a
	// link inside the tree (the walk and the plan check keep links
	// pointing out of it away) is written through, not replaced.
	target string
	data   []byte
	hash   [32]byte
	mode   fs.FileMode
	// linked: the file has other hard links, so it is rewritten in place
	// (a rename would leave the other names with the old text).
	linked bool
}

// readSnapshot reads a regular file of at most limit bytes (0: no limit).
func readSnapshot(path string, limit int64) (*snapshot, error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if limit > 0 && info.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed (--max-file-size)", path, info.Size(), limit)
	}
	data, err := readAtMost(target, limit)
	if err != nil {
		return nil, err
	}
	return &snapshot{path: path, target: target, data: data, hash: sha256.Sum256(data), mode: info.Mode().Perm(),
		linked: hardLinks(info) > 1}, nil
}

// readAtMost reads path, failing when it holds more than limit bytes
// (0: no limit), which a file that grew since its stat may.
func readAtMost(path string, limit int64) ([]byte, error) {
	if limit <= 0 {
		return os.ReadFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s grew past the %d bytes allowed (--max-file-size)", path, limit)
	}
	return data, nil
}

// readOnly reports whether the file's owner may not write it: such a file
// is left alone (renaming over it would write it anyway).
func (s *snapshot) readOnly() bool { return s.mode&0o200 == 0 }

// write puts data in the file: through a synced temporary file renamed
// over it, or in place for a file with other hard links.
func (s *snapshot) write(data []byte) error {
	if s.linked {
		return writeInPlace(s.target, data, s.data)
	}
	return atomicWrite(s.target, data, s.mode)
}

// writeInPlace rewrites path's own inode, so every hard link to it sees
// data. Before the file is touched, a backup holding its old content (old)
// and the new (see backup.go) is synced next to it. The new content is
// then written over the old from the start, without truncating first, and
// the file is cut to the new length only once all of it is written: at no
// moment is the file shorter than the old version or the new one, and a
// run killed on the way leaves a backup the next run restores from
// (recoverLeftovers).
func writeInPlace(path string, data, old []byte) error {
	bf, err := writeBackup(path, old, data)
	if err != nil {
		return err
	}
	defer bf.Close()
	backup := bf.Name()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		os.Remove(backup)
		return fmt.Errorf("opening %s to rewrite it: %w", path, err)
	}
	crashPoint("file-opened")
	err = overwrite(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rewriting %s: %w (its old content is in %s; the next dfim batch run over this folder puts it back)", path, err, backup)
	}
	if err := os.Remove(backup); err != nil {
		return fmt.Errorf("removing the backup %s after rewriting %s: %w", backup, path, err)
	}
	crashPoint("backup-removed")
	return nil
}

// writeChunk is how much overwrite writes per call; tests make it small to
// stop a write half way.
var writeChunk = 1 << 20

// overwrite writes data over f from its start, then cuts f to len(data)
// when it was longer, then syncs: the file only ever holds a prefix of
// data followed by the old bytes past it, then data.
func overwrite(f *os.File, data []byte) error {
	for off := 0; off < len(data); {
		n := min(writeChunk, len(data)-off)
		if _, err := f.WriteAt(data[off:off+n], int64(off)); err != nil {
			return err
		}
		off += n
		crashPoint("file-write")
	}
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() > int64(len(data)) {
		if err := f.Truncate(int64(len(data))); err != nil {
			return err
		}
		crashPoint("file-truncated")
	}
	if err := f.Sync(); err != nil {
		return err
	}
	crashPoint("file-synced")
	return nil
}

// crashPoint marks a step of a write between two system calls; the kill
// tests stop the process there (see kill_test.go). It does nothing in dfim.
var crashPoint = func(step string) {}

// syncDir makes the creation, rename or removal of a name in dir durable;
// not all file systems support it, so its failure is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
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
	cur, err := os.ReadFile(s.target)
	if err != nil {
		return fmt.Errorf("re-reading %s before writing: %w", s.path, err)
	}
	if sha256.Sum256(cur) != s.hash {
		return errChanged{s.path}
	}
	return s.write(data)
}

func atomicWrite(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
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
	crashPoint("temp-created")
	tryLock(tmp) // just made: no other run has it; the lock tells them it is in use
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	crashPoint("temp-written")
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("keeping the mode of %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	crashPoint("temp-synced")
	// Closed (and unlocked) only once renamed: until then another run
	// must not take it for a leftover.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	done = true
	crashPoint("renamed")
	tmp.Close() // synced and renamed: nothing is lost if closing fails
	syncDir(dir)
	return nil
}

// restore puts back a file's original content, unless someone edited it
// after the run wrote it (then their edit wins and the caller reports it).
func restore(s *snapshot, written []byte) error {
	cur, err := os.ReadFile(s.target)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, written) {
		return errChanged{s.path}
	}
	if s.linked {
		return writeInPlace(s.target, s.data, written)
	}
	return atomicWrite(s.target, s.data, s.mode)
}
