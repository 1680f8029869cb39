// Package models gets diffusion coders onto the machine: it resolves a
// model reference (a short name from the table dfim ships, hf:ORG/NAME[@REV],
// or hf:ORG/NAME/FILE.gguf), lists a Hugging Face repository's files with
// their LFS sha256 through the Hub's HTTP API, downloads them into a cache
// shared by every pull of the same revision (resuming partial files with
// HTTP Range, checking every file's hash before use), converts safetensors
// checkpoints to GGUF (package convert) and keeps a registry of pulled
// names → GGUF paths.
//
// It must not be imported by lsp or infill: names are resolved by the
// command line (cmd/dfim), and the engine only ever opens GGUF files.
//
// # Cache layout
//
// Under $XDG_CACHE_HOME/dfim/models (~/.cache/dfim/models without it):
//
//	blobs/SHA            verified file contents, named by their hash
//	                     (LFS sha256, or the git blob sha1 of small files)
//	blobs/SHA.partial    a download in progress; a later pull resumes it
//	snapshots/ORG--NAME/COMMIT/FILE   symbolic links into blobs/
//	refs/ORG--NAME/REV   the commit a branch or tag resolved to (offline use)
//	gguf/ORG--NAME/COMMIT/QUANT.gguf  a converted checkpoint
//	registry.json        pulled names → GGUF paths
//
// Like the Hub's own cache, two pulls of the same revision share every
// blob, and a file that two revisions have in common is stored once.
//
// # Why plain net/http
//
// github.com/gomlx/go-huggingface v0.3.1 was evaluated: it reads
// HF_ENDPOINT and keeps the Hub's cache layout, but its downloader
// truncates the file on every try (no Range resume), checks no hash, and
// lets Go's redirect policy forward the Authorization header to
// subdomains of the endpoint (the Hub's CDN hosts are such subdomains),
// and it brings five more modules. The three things this package must
// guarantee (resume, verification, the token staying on the endpoint's
// host) are the whole of the download code, so it is written here on
// net/http, in hub.go.
package models
