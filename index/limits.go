package index

import (
	"errors"
	"fmt"
	"strings"
)

// A limit is one of the caps of Options.
type limit int

const (
	limitFiles limit = iota
	limitBytes
	limitWatches
	numLimits
)

// errLimit stops a walk at a cap.
var errLimit = errors.New("index: a cap of Options was hit")

// message says what hitting l means for the user and what they can do.
func (ix *Index) message(l limit) string {
	const fix = "open the project's own folder as the workspace"
	switch l {
	case limitFiles:
		return fmt.Sprintf("%s holds more than %d files; only the first %d are indexed for cross-file context; %s",
			ix.root, ix.opts.MaxFiles, ix.opts.MaxFiles, fix)
	case limitBytes:
		size := fmt.Sprintf("%d MB", ix.opts.MaxBytes>>20)
		if ix.opts.MaxBytes < 1<<20 {
			size = fmt.Sprintf("%d bytes", ix.opts.MaxBytes)
		}
		return fmt.Sprintf("the files under %s come to more than %s; only the first %s are indexed for cross-file context; %s",
			ix.root, size, size, fix)
	default:
		return fmt.Sprintf("%d folders under %s are watched, the most allowed; changes elsewhere are seen only in files open in the editor; %s",
			ix.opts.MaxWatches, ix.root, fix)
	}
}

// hitLimit records that l was reached, logging it the first time.
func (ix *Index) hitLimit(l limit) {
	if ix.hit[l].CompareAndSwap(false, true) {
		ix.opts.Logf("index: %s", ix.message(l))
	}
}

// limit joins the messages of the caps hit so far; "" when none.
func (ix *Index) limit() string {
	var msgs []string
	for l := range numLimits {
		if ix.hit[l].Load() {
			msgs = append(msgs, ix.message(l))
		}
	}
	return strings.Join(msgs, "; ")
}

// over says which cap a table of files files and bytes bytes would pass.
func (ix *Index) over(files int, bytes int64) (limit, bool) {
	if m := ix.opts.MaxFiles; m > 0 && files > m {
		return limitFiles, true
	}
	if m := ix.opts.MaxBytes; m > 0 && bytes > m {
		return limitBytes, true
	}
	return 0, false
}

// admit says whether a file read after the first scan (a file event, a new
// folder) may enter the table: one already there always may, a new one
// only under the caps.
func (ix *Index) admit(path string, size int64) bool {
	ix.mu.RLock()
	e := ix.files[path]
	files, bytes := ix.live, ix.bytes
	ix.mu.RUnlock()
	if e != nil && !e.gone {
		return true
	}
	if l, over := ix.over(files+1, bytes+size); over {
		ix.hitLimit(l)
		return false
	}
	return true
}
