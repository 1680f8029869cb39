package syntax

/*
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// The layouts of tree-sitter's TSNode and TSTreeCursor (api.h of the
// go-tree-sitter version in go.mod), declared here as tsedit.go declares
// TSInputEdit: the walk for errors runs in C, one call per tree, because
// through the Go binding each node visited costs several cgo calls and a
// map entry, and a document with an error has thousands of top-level
// nodes to pass over.
typedef struct { uint32_t context[4]; const void *id; const void *tree; } dfim_node;
typedef struct { const void *tree; const void *id; uint32_t context[3]; } dfim_cursor;

dfim_node ts_tree_root_node(const void *self);
bool ts_node_has_error(dfim_node self);
bool ts_node_is_error(dfim_node self);
bool ts_node_is_missing(dfim_node self);
uint32_t ts_node_start_byte(dfim_node self);
uint32_t ts_node_end_byte(dfim_node self);
const char *ts_node_type(dfim_node self);
dfim_cursor ts_tree_cursor_new(dfim_node node);
void ts_tree_cursor_delete(dfim_cursor *self);
dfim_node ts_tree_cursor_current_node(const dfim_cursor *self);
bool ts_tree_cursor_goto_first_child(dfim_cursor *self);
bool ts_tree_cursor_goto_next_sibling(dfim_cursor *self);
bool ts_tree_cursor_goto_parent(dfim_cursor *self);

typedef struct { uint32_t start, end; int missing; const char *type; } dfim_error;

// dfim_collect_errors stores the tree's ERROR and MISSING nodes, in
// document order and without an ERROR node's own children, in out (room
// for cap) and returns how many there are (more than cap: call again).
// It enters only subtrees that hold an error.
static size_t dfim_collect_errors(const void *tree, dfim_error *out, size_t cap) {
	dfim_node root = ts_tree_root_node(tree);
	if (!ts_node_has_error(root)) return 0;
	dfim_cursor c = ts_tree_cursor_new(root);
	size_t n = 0;
	for (;;) {
		dfim_node node = ts_tree_cursor_current_node(&c);
		int missing = ts_node_is_missing(node);
		if (missing || ts_node_is_error(node)) {
			if (n < cap) {
				out[n].start = ts_node_start_byte(node);
				out[n].end = ts_node_end_byte(node);
				out[n].missing = missing;
				out[n].type = missing ? ts_node_type(node) : NULL;
			}
			n++;
		} else if (ts_node_has_error(node) && ts_tree_cursor_goto_first_child(&c)) {
			continue;
		}
		while (!ts_tree_cursor_goto_next_sibling(&c)) {
			if (!ts_tree_cursor_goto_parent(&c)) {
				ts_tree_cursor_delete(&c);
				return n;
			}
		}
	}
}
*/
import "C"

import (
	"unsafe"

	sitter "github.com/smacker/go-tree-sitter"
)

// treeErrors lists t's ERROR and MISSING nodes in document order; an
// ERROR node's own children are not listed.
func treeErrors(t *sitter.Tree) []Error {
	c := (*baseTree)(unsafe.Pointer(t.BaseTree)).c
	buf := make([]C.dfim_error, 16)
	n := int(C.dfim_collect_errors(c, &buf[0], C.size_t(len(buf))))
	if n > len(buf) {
		buf = make([]C.dfim_error, n)
		n = int(C.dfim_collect_errors(c, &buf[0], C.size_t(len(buf))))
	}
	var out []Error
	for _, e := range buf[:n] {
		out = append(out, Error{Start: int(e.start), End: int(e.end), Missing: e.missing != 0})
		if e.missing != 0 {
			out[len(out)-1].Node = C.GoString(e._type)
		}
	}
	return out
}
