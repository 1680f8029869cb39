// Package syntax wraps tree-sitter (github.com/smacker/go-tree-sitter) for
// infill: it detects a document's language, parses it, reparses it
// incrementally with a candidate in place, and says which ERROR and
// MISSING nodes the candidate added compared with the document without it.
// It also reports the syntax node at a cursor, for span-length planning.
//
// It owns every cgo object it makes (parsers, trees) and closes each where
// it is made; parsers are pooled per language because they are not safe
// for concurrent use. It must not know about engines, canvases or editors.
package syntax
