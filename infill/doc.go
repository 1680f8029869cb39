// Package infill turns a document and a cursor into suggestions worth
// showing: it builds the canvas (prefix, hole(s), suffix, cross-file
// context), plans the span length, asks an engine.Denoiser to fill it,
// validates every candidate with tree-sitter (infill/syntax), repairs broken
// ones by re-masking around the error, and post-processes the text.
//
// It serves the LSP server, `dfim fill`, `dfim batch` and `dfim eval`.
// It must not know how a model computes: everything model-side goes
// through engine.Denoiser.
package infill
