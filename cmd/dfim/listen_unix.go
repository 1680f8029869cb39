//go:build unix

package main

import (
	"os"
	"syscall"
)

// ownedByMe reports whether the file st describes belongs to this
// process's user.
func ownedByMe(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return !ok || int(sys.Uid) == os.Getuid()
}
