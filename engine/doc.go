// Package engine defines the Denoiser: the one interface between dfim's
// infill pipeline and the models that fill canvases. A canvas is fixed text
// segments and holes; a Denoiser fills every hole, for one or more
// candidates, and may stream each denoising step through Request.Observe.
//
// Backends register themselves by name (engine/native as "native",
// engine/remote as "inception" and "openai"); callers Open them by name.
// This package must not know about documents, editors or tree-sitter.
package engine
