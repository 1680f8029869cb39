package index

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// A limit is one of the caps of Options.
type limit int

const (
	limitFiles limit = iota
	limitBytes
	limitWatches
	// The caps of Options.Budget, shared with other indexes.
	limitSharedFiles
	limitSharedBytes
	limitSharedWatches
	numLimits
)

// A Budget is caps shared by several indexes: those of all the sessions
// of one language server, so that a client opening many sessions (or many
// clients) cannot take the caps once each. Each index claims the most files
// and bytes it has held and the folders it watches, and gives them back
// when closed. Its methods are safe for concurrent use.
type Budget struct {
	maxFiles   int
	maxBytes   int64
	maxWatches int

	// mu guards the totals below, and the claims of the indexes using it.
	mu      sync.Mutex
	files   int
	bytes   int64
	watches int
}

// NewBudget returns caps for several indexes together: 0 means the
// default of one index (DefaultMaxFiles, ...), negative no cap.
func NewBudget(maxFiles int, maxBytes int64, maxWatches int) *Budget {
	if maxFiles == 0 {
		maxFiles = DefaultMaxFiles
	}
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxWatches == 0 {
		maxWatches = DefaultMaxWatches
	}
	return &Budget{maxFiles: maxFiles, maxBytes: maxBytes, maxWatches: maxWatches}
}

// BudgetUse is what the indexes of a Budget hold together.
type BudgetUse struct {
	Files   int
	Bytes   int64
	Watches int
}

// Use says what the indexes sharing b hold now.
func (b *Budget) Use() BudgetUse {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetUse{Files: b.files, Bytes: b.bytes, Watches: b.watches}
}

// claim raises ix's claim to files and bytes, unless that would pass a
// cap: then it says which.
func (b *Budget) claim(ix *Index, files int, bytes int64) (limit, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	df, db := max(0, files-ix.claimFiles), max(0, bytes-ix.claimBytes)
	if b.maxFiles > 0 && b.files+df > b.maxFiles {
		return limitSharedFiles, true
	}
	if b.maxBytes > 0 && b.bytes+db > b.maxBytes {
		return limitSharedBytes, true
	}
	b.files += df
	b.bytes += db
	ix.claimFiles += df
	ix.claimBytes += db
	return 0, false
}

// takeWatch claims one watched folder for ix, unless the cap is reached.
func (b *Budget) takeWatch() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.maxWatches > 0 && b.watches >= b.maxWatches {
		return false
	}
	b.watches++
	return true
}

// giveWatches returns n watched folders.
func (b *Budget) giveWatches(n int) {
	b.mu.Lock()
	b.watches -= n
	b.mu.Unlock()
}

// release gives back all ix claimed but its watches (see giveWatches).
func (b *Budget) release(ix *Index) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files -= ix.claimFiles
	b.bytes -= ix.claimBytes
	ix.claimFiles, ix.claimBytes = 0, 0
}

// errLimit stops a walk at a cap.
var errLimit = errors.New("index: a cap of Options was hit")

// message says what hitting l means for the user and what they can do.
func (ix *Index) message(l limit) string {
	const fix = "open the project's own folder as the workspace"
	const together = "the workspaces of all the sessions of this dfim server together"
	size := func(n int64) string {
		if n < 1<<20 {
			return fmt.Sprintf("%d bytes", n)
		}
		return fmt.Sprintf("%d MB", n>>20)
	}
	switch l {
	case limitFiles:
		return fmt.Sprintf("%s holds more than %d files; only the first %d are indexed for cross-file context; %s",
			ix.root, ix.opts.MaxFiles, ix.opts.MaxFiles, fix)
	case limitBytes:
		size := size(ix.opts.MaxBytes)
		return fmt.Sprintf("the files under %s come to more than %s; only the first %s are indexed for cross-file context; %s",
			ix.root, size, size, fix)
	case limitSharedFiles:
		return fmt.Sprintf("%s hold more than %d files; only some of %s are indexed for cross-file context; "+
			"close other sessions, or %s", together, ix.opts.Budget.maxFiles, ix.root, fix)
	case limitSharedBytes:
		return fmt.Sprintf("the files of %s come to more than %s; only some of %s are indexed for cross-file context; "+
			"close other sessions, or %s", together, size(ix.opts.Budget.maxBytes), ix.root, fix)
	case limitSharedWatches:
		return fmt.Sprintf("%d folders are watched for %s, the most allowed; changes elsewhere under %s are seen only "+
			"in files open in the editor; close other sessions, or %s", ix.opts.Budget.maxWatches, together, ix.root, fix)
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

// over says which cap a table of files files and bytes bytes would pass;
// when none, ix's claim on the shared Budget grows to them.
func (ix *Index) over(files int, bytes int64) (limit, bool) {
	if m := ix.opts.MaxFiles; m > 0 && files > m {
		return limitFiles, true
	}
	if m := ix.opts.MaxBytes; m > 0 && bytes > m {
		return limitBytes, true
	}
	if b := ix.opts.Budget; b != nil {
		return b.claim(ix, files, bytes)
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
