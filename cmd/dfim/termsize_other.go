//go:build !unix

package main

import "os"

// ttySize is not known here; terminalSize falls back to $COLUMNS or 80.
func ttySize(*os.File) (cols, rows int, ok bool) { return 0, 0, false }
