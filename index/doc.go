// Package index keeps a workspace's symbol table and recent chunks, and
// retrieves cross-file context for a completion.
//
// It owns: walking the workspace root (Walk, honouring .gitignore files and
// skipping .git, vendor, node_modules, binaries, large files and symlinks
// out of the tree); watching it with fsnotify, one watch per folder, adding
// folders as they appear and rescanning when events overflow; extracting
// definitions and references with tree-sitter tag queries (queries/*.scm,
// embedded; the tags.scm conventions of the tree-sitter projects) into a
// symbol table where an editor's unsaved buffer (UpdateBuffer) wins over
// the file on disk; a ring of recently edited and viewed chunks, as
// llama.vim keeps; and Index.Context, which ranks definitions and chunks
// for the identifiers around a cursor and packs them, each headed by a path
// comment, into a byte budget for infill.Options.ExtraContext.
//
// What one workspace may cost is capped (Options.MaxFiles, MaxBytes,
// MaxWatches; by default 20,000 files, 200 MB and 8,192 watched folders),
// so a root such as /usr or a home folder cannot grow without end: at a
// cap the index keeps the first files in the walk's order, logs it once and
// names it in Progress.Limit and Stats.Limit. Only regular files are read,
// never more than WalkOptions.MaxFileSize of one.
//
// It must never block a completion on I/O or parsing: scans, parses and
// file events run on background goroutines, and retrieval holds the
// table's lock only to look names up. It must not know about engines,
// canvases or the LSP (the server maps Progress to $/progress).
//
// Languages, their grammars, comment syntax and families are infill/syntax's
// one table (syntax.Detect, syntax.Family, syntax.LineComment); this package
// adds only a tag query per language (lang.go, queries/) and parses on
// infill/syntax's parser pools (Language.ParseTree), where a parser whose
// parse met a cancellation is closed, never reused.
//
// Files by job: index.go the Index's lifecycle and public methods;
// scan.go the first scan and rescans; watch.go the watcher and the
// updater that applies queued changes; queue.go the work queue and the
// debouncer of buffer edits; entries.go reading, tagging and applying one
// file's entry; limits.go the caps; walk.go and ignore.go the tree walk;
// tags.go and lang.go extraction; ring.go recent chunks; context.go
// retrieval.
package index
