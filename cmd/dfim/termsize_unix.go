//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// ttySize asks the terminal f is on for its size, for fill --watch.
func ttySize(f *os.File) (cols, rows int, ok bool) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 0, 0, false
	}
	return int(ws.Col), int(ws.Row), true
}
