package syntax

/*
#include <stdint.h>

// The layout of tree-sitter's TSInputEdit (api.h). go-tree-sitter's
// Tree.Edit passes old_end_point as new_end_point, which shifts the rows and
// columns of every node after a multi-line edit, so dfim calls
// ts_tree_edit itself. The symbol lives in go-tree-sitter's C objects.
typedef struct { uint32_t row; uint32_t column; } dfim_point;
typedef struct {
	uint32_t start_byte, old_end_byte, new_end_byte;
	dfim_point start_point, old_end_point, new_end_point;
} dfim_input_edit;

void ts_tree_edit(void *self, const dfim_input_edit *edit);

static void dfim_tree_edit(void *tree, dfim_input_edit e) { ts_tree_edit(tree, &e); }
*/
import "C"

import (
	"unsafe"

	sitter "github.com/smacker/go-tree-sitter"
)

// baseTree mirrors sitter.BaseTree's layout to reach its C pointer.
type baseTree struct {
	c        unsafe.Pointer
	isClosed bool
}

func editTree(t *sitter.Tree, startByte, oldEndByte, newEndByte uint32, start, oldEnd, newEnd sitter.Point) {
	bt := (*baseTree)(unsafe.Pointer(t.BaseTree))
	C.dfim_tree_edit(bt.c, C.dfim_input_edit{
		start_byte: C.uint32_t(startByte), old_end_byte: C.uint32_t(oldEndByte), new_end_byte: C.uint32_t(newEndByte),
		start_point:   C.dfim_point{row: C.uint32_t(start.Row), column: C.uint32_t(start.Column)},
		old_end_point: C.dfim_point{row: C.uint32_t(oldEnd.Row), column: C.uint32_t(oldEnd.Column)},
		new_end_point: C.dfim_point{row: C.uint32_t(newEnd.Row), column: C.uint32_t(newEnd.Column)},
	})
}
