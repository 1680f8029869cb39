// Package index watches the workspace and retrieves cross-file context
// (definitions of identifiers near the cursor, recently edited chunks) for a
// completion. It must never block a completion request on I/O.
package index
