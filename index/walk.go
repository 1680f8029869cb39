package index

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	ignore "github.com/sabhiram/go-gitignore"
)

// SkipReason says why a walk left a file out.
type SkipReason string

const (
	SkipIgnored  SkipReason = "ignored"             // .gitignore, .git, vendor, node_modules
	SkipBinary   SkipReason = "binary"              // a NUL byte in the first 8 KiB
	SkipTooLarge SkipReason = "too large"           // over WalkOptions.MaxFileSize
	SkipSymlink  SkipReason = "symlink out of tree" // points outside the walked root
	SkipError    SkipReason = "unreadable"
)

// WalkOptions steer Walk.
type WalkOptions struct {
	MaxFileSize int64    // 0 = 1 MiB
	SkipDirs    []string // folder names never entered; nil = .git, vendor, node_modules
	// Dir, when set, is called for every folder the walk enters, the
	// root included (the index watches each one).
	Dir func(path string)
}

func (o *WalkOptions) defaults() {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 1 << 20
	}
	if o.SkipDirs == nil {
		o.SkipDirs = []string{".git", "vendor", "node_modules"}
	}
}

// A Skip is one file Walk left out, and why.
type Skip struct {
	Path   string
	Reason SkipReason
	Err    error // for SkipError
}

// Walk calls visit for every text file under root that .gitignore files
// (root's and nested ones) do not exclude, in lexical order. Files it leaves
// out are passed to skipped. A root that is a file is visited as it is.
// Symlinks are followed only when they stay inside root.
func Walk(root string, opts WalkOptions, visit func(path string, info fs.FileInfo) error, skipped func(Skip)) error {
	opts.defaults()
	if skipped == nil {
		skipped = func(Skip) {}
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return err
	}
	info, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		if reason, err := checkFile(root, info, opts); reason != "" {
			skipped(Skip{Path: root, Reason: reason, Err: err})
			return nil
		}
		return visit(root, info)
	}
	w := &walker{opts: opts, realRoot: realRoot, visit: visit, skipped: skipped}
	return w.dir(root, nil)
}

type walker struct {
	opts     WalkOptions
	realRoot string // absolute, symlinks resolved
	visit    func(string, fs.FileInfo) error
	skipped  func(Skip)
}

// resolve is where a link under the root really leads, as an absolute
// path without symlinks, to compare with realRoot: a relative root gives
// relative paths, and EvalSymlinks of a relative path is relative too.
func (w *walker) resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// rules is one folder's .gitignore, with the folder it applies to.
type rules struct {
	dir string
	gi  *ignore.GitIgnore
}

func (w *walker) ignored(path string, isDir bool, stack []rules) bool {
	for _, r := range stack {
		rel, err := filepath.Rel(r.dir, path)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		if isDir {
			rel += "/"
		}
		if r.gi.MatchesPath(rel) {
			return true
		}
	}
	return false
}

func (w *walker) dir(dir string, stack []rules) error {
	if w.opts.Dir != nil {
		w.opts.Dir(dir)
	}
	if gi, err := ignore.CompileIgnoreFile(filepath.Join(dir, ".gitignore")); err == nil {
		stack = append(stack[:len(stack):len(stack)], rules{dir: dir, gi: gi})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.skipped(Skip{Path: dir, Reason: SkipError, Err: err})
		return nil
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		info, err := os.Lstat(path)
		if err != nil {
			w.skipped(Skip{Path: path, Reason: SkipError, Err: err})
			continue
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := w.resolve(path)
			if err != nil || !within(w.realRoot, target) {
				w.skipped(Skip{Path: path, Reason: SkipSymlink, Err: err})
				continue
			}
			if info, err = os.Stat(path); err != nil {
				w.skipped(Skip{Path: path, Reason: SkipError, Err: err})
				continue
			}
			if info.IsDir() {
				// A link to a folder inside the tree is walked where it really is.
				continue
			}
		}
		if info.IsDir() {
			if contains(w.opts.SkipDirs, e.Name()) || w.ignored(path, true, stack) {
				continue
			}
			if err := w.dir(path, stack); err != nil {
				return err
			}
			continue
		}
		if !info.Mode().IsRegular() {
			continue
		}
		if w.ignored(path, false, stack) {
			continue
		}
		if reason, err := checkFile(path, info, w.opts); reason != "" {
			w.skipped(Skip{Path: path, Reason: reason, Err: err})
			continue
		}
		if err := w.visit(path, info); err != nil {
			return err
		}
	}
	return nil
}

// checkFile says why a file should be left out, or "".
func checkFile(path string, info fs.FileInfo, opts WalkOptions) (SkipReason, error) {
	if info.Size() > opts.MaxFileSize {
		return SkipTooLarge, nil
	}
	f, err := openRegular(path)
	if err != nil {
		return SkipError, err
	}
	defer f.Close()
	head := make([]byte, 8192)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return SkipError, err
	}
	if IsBinary(head[:n]) {
		return SkipBinary, nil
	}
	return "", nil
}

// openRegular opens path for reading if it is a regular file. A FIFO or a
// device put in the place of a file listed earlier is refused rather than
// waited on (opening a FIFO blocks until a writer comes) or read forever.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, nil
}

// readRegular reads path if it is a regular file of at most limit bytes,
// which a file that grew since it was listed may no longer be.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes since it was listed", path, limit)
	}
	return data, nil
}

// IsBinary reports whether data looks like a binary file: a NUL byte in its
// first 8 KiB, as git decides.
func IsBinary(data []byte) bool {
	if len(data) > 8192 {
		data = data[:8192]
	}
	return bytes.IndexByte(data, 0) >= 0
}

func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
