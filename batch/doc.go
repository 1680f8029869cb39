// Package batch fills holes across a code base from the command line
// (`dfim batch`) and for the LSP's fill commands: hole markers in files
// (`<<fill>>`, `<<fill:3>>`), line ranges from a plan file, or syntax nodes
// matched by a tree-sitter query. All holes of one file go to the infill
// pipeline as one canvas. A walk fills the source files of the languages
// with a grammar, and only the markers in code: a marker in a comment or a
// string literal, as the syntax tree tells, is text (select.go).
//
// Nothing is ever lost: a file is read with its hash and replaced through a
// synced temporary file in the same folder, renamed over it with its mode
// kept (a file with other hard links is rewritten in place, never
// truncated first, a synced backup beside it until done); the next run
// removes the temporary files and backups a killed run left and puts back
// a file it cut short (backup.go); a file that changed on disk since it
// was read is skipped, never overwritten; a read-only file is left alone;
// --check restores the files whose fills it rejects, per file (check.go).
// Judge decides which fills are written, for `dfim batch` and for the
// LSP's Fill Holes command alike (judge.go). Nothing is written outside
// the roots given: plan paths must resolve inside them, links inside the
// tree are written through to their targets.
// This package must not know how holes are filled (that is infill's job).
package batch
