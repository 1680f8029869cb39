package lsp

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/dfim/dfim/index"
	"github.com/dfim/dfim/infill"
)

// maxIndexedBuffer is the largest open document whose edits are passed to
// the index: larger ones would copy megabytes per keystroke, and the index
// skips files over 1 MiB anyway.
const maxIndexedBuffer = 1 << 20

// workspaceRoot is the folder to index: rootUri, else the first workspace
// folder, else the deprecated rootPath; "" when the client named none or
// not a local folder.
func workspaceRoot(p *initializeParams) string {
	var uris []string
	if p.RootURI != "" {
		uris = append(uris, p.RootURI)
	}
	if len(p.WorkspaceFolders) > 0 {
		uris = append(uris, p.WorkspaceFolders[0].URI)
	}
	for _, u := range uris {
		if path := uriPath(protocol.DocumentURI(u)); path != "" {
			return path
		}
	}
	if p.RootPath != "" && filepath.IsAbs(p.RootPath) {
		return filepath.Clean(p.RootPath)
	}
	return ""
}

// uriPath is the local file path of a file:// URI; "" for other schemes
// (untitled:, remote file systems) and for what does not parse.
func uriPath(uri protocol.DocumentURI) string {
	u, err := url.Parse(string(uri))
	if err != nil || u.Scheme != "file" || u.Path == "" {
		return ""
	}
	p := u.Path
	if runtime.GOOS == "windows" {
		// file:///C:/x → C:/x
		if len(p) >= 3 && p[0] == '/' && p[2] == ':' {
			p = p[1:]
		}
		if u.Host != "" { // a UNC path
			p = `\\` + u.Host + filepath.FromSlash(p)
		}
	}
	return filepath.Clean(filepath.FromSlash(p))
}

// startIndex indexes the workspace root in the background when the
// crossFileContext setting asks for it, once per root, reporting the first
// scan as work-done progress when the client supports it. Completions
// never wait for it: until it is ready they get what it has (or nothing).
func (s *Server) startIndex() {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	s.mu.Lock()
	root, want, closed := s.indexRoot, s.settings.CrossFileContext, s.state >= stateShutdown
	progress := s.progressOK
	s.progressSeq++
	token := fmt.Sprintf("dfim-index-%d", s.progressSeq)
	s.mu.Unlock()
	if root == "" || !want || closed || s.ixClosed || s.ix != nil || s.ixStarting {
		return
	}
	s.ixStarting = true
	go func() {
		if progress {
			progress = s.beginProgress(token, "dfim", "indexing "+root)
		}
		// The scan reports from its own goroutine; the latest report waits
		// here, so a slow client never slows the scan down.
		latest := make(chan index.Progress, 1)
		report := func(p index.Progress) {
			for {
				select {
				case latest <- p:
					return
				default:
				}
				select {
				case <-latest:
				default:
				}
			}
		}
		start := time.Now()
		opts := index.Options{Logf: func(format string, args ...any) {
			s.log.Debug(fmt.Sprintf(format, args...))
		}, Budget: s.opts.IndexBudget}
		if progress {
			opts.Progress = report
		}
		ix, err := index.New(root, opts)
		if err != nil {
			s.log.Warn("workspace index failed; completions go without cross-file context",
				zap.String("root", root), zap.Error(err))
			if progress {
				s.endProgress(token, "index failed: "+err.Error())
			}
			s.ixMu.Lock()
			s.ixStarting = false
			s.ixMu.Unlock()
			return
		}
		s.ixMu.Lock()
		s.ixStarting = false
		if s.ixClosed {
			s.ixMu.Unlock()
			ix.Close()
			return
		}
		s.ix = ix
		// Documents opened before the index existed: tell it now, holding
		// ixMu so no didChange slips an older text in after a newer one.
		s.mu.Lock()
		docs := make([]*document, 0, len(s.docs))
		for _, d := range s.docs {
			docs = append(docs, d)
		}
		s.mu.Unlock()
		for _, d := range docs {
			s.indexOpened(ix, d)
		}
		s.ixMu.Unlock()
		go s.reportIndexProgress(ix, token, progress, latest, start)
	}()
}

// reportIndexProgress forwards the first scan's progress to the client
// (at most every 200 ms) and logs when it is done.
func (s *Server) reportIndexProgress(ix *index.Index, token string, progress bool, latest chan index.Progress, start time.Time) {
	var last time.Time
	for {
		select {
		case p := <-latest:
			if !progress || p.Finished || time.Since(last) < 200*time.Millisecond || p.Total == 0 {
				continue
			}
			last = time.Now()
			msg := fmt.Sprintf("%d/%d files", p.Done, p.Total)
			if p.Limit != "" {
				msg += "; " + p.Limit
			}
			s.notify(protocol.MethodProgress, map[string]any{"token": token, "value": map[string]any{
				"kind": "report", "message": msg, "percentage": p.Done * 100 / p.Total}})
		case <-ix.Ready():
			st := ix.Stats()
			s.log.Info("workspace indexed", zap.String("root", ix.Root()), zap.Int("files", st.Files),
				zap.Int("symbols", st.Symbols), zap.Duration("took", time.Since(start)))
			end := fmt.Sprintf("indexed %d files", st.Files)
			if st.Limit != "" {
				// A cap was hit: say so where the user looks, not only at debug.
				s.log.Warn("workspace index capped", zap.String("root", ix.Root()), zap.String("limit", st.Limit))
				end += "; " + st.Limit
			}
			if progress {
				s.endProgress(token, end)
			}
			return
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *Server) endProgress(token, msg string) {
	s.notify(protocol.MethodProgress, map[string]any{"token": token,
		"value": map[string]any{"kind": "end", "message": msg}})
}

// closeIndex stops the index for good (shutdown, end of session).
func (s *Server) closeIndex() {
	s.ixMu.Lock()
	ix := s.ix
	s.ix, s.ixClosed = nil, true
	s.ixMu.Unlock()
	if ix != nil {
		if err := ix.Close(); err != nil {
			s.log.Debug("closing the workspace index", zap.Error(err))
		}
	}
}

// indexOpened tells the index about an opened document: the user looks at
// it, and its text wins over the file on disk when the two differ.
// Called with ixMu held.
func (s *Server) indexOpened(ix *index.Index, d *document) {
	path := uriPath(d.uri)
	if path == "" || d.buf == nil || d.size > maxIndexedBuffer {
		return
	}
	text := d.buf.String()
	ix.Visit(path, text, 0)
	if st, err := os.Stat(path); err == nil && st.Size() == int64(len(text)) {
		if disk, err := os.ReadFile(path); err == nil && string(disk) == text {
			return // as saved: the index reads it from disk
		}
	}
	ix.UpdateBuffer(path, text)
}

// The document hooks below run on the read loop, in the order the client
// sent the changes; each calls the index without waiting for it (it parses
// in the background).

func (s *Server) indexDidOpen(d *document) {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	if s.ix != nil {
		s.indexOpened(s.ix, d)
	}
}

// indexDidChangeLocked passes d's new text to the index; didChange calls
// it holding ixMu, as it edits the buffer.
func (s *Server) indexDidChangeLocked(d *document) {
	path := uriPath(d.uri)
	if s.ix == nil || path == "" || d.buf == nil || d.size > maxIndexedBuffer {
		return
	}
	s.ix.UpdateBuffer(path, d.buf.String())
}

func (s *Server) indexDidClose(uri protocol.DocumentURI) {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	if path := uriPath(uri); s.ix != nil && path != "" {
		s.ix.CloseBuffer(path)
	}
}

// contextSource is the cross-file context of completions under set: the
// workspace index as it is now (possibly empty, while it scans), nil when
// the setting is off.
func (s *Server) contextSource(set Settings) infill.ContextSource {
	if !set.CrossFileContext || set.CrossFileContextBytes <= 0 {
		return nil
	}
	return indexSource{s}
}

// indexSource asks the server's index, if it has one yet, and logs what it
// gave.
type indexSource struct{ s *Server }

func (src indexSource) Context(path, text string, offset, budget int) string {
	s := src.s
	s.ixMu.Lock()
	ix := s.ix
	s.ixMu.Unlock()
	if ix == nil || !filepath.IsAbs(path) {
		return "" // no index yet, or a buffer with no file
	}
	start := time.Now()
	extra := ix.Context(path, text, offset, budget)
	s.log.Debug("cross-file context", zap.String("document", path), zap.Int("bytes", len(extra)),
		zap.Duration("took", time.Since(start)))
	return extra
}

// Lookup gives infill's compile check the workspace's definitions of
// name: a package-level name from a file of the package the user has not
// opened is defined, though infill may not read that file.
func (src indexSource) Lookup(name string) []index.Symbol {
	src.s.ixMu.Lock()
	ix := src.s.ix
	src.s.ixMu.Unlock()
	if ix == nil {
		return nil
	}
	return ix.Lookup(name)
}

// documentPath is what infill.Document.Path holds for uri: the file's path,
// or for a buffer with no file (untitled:) the URI itself, as a name.
func documentPath(uri protocol.DocumentURI) string {
	if p := uriPath(uri); p != "" {
		return p
	}
	return string(uri)
}
