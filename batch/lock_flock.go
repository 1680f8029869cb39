//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package batch

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive advisory lock on f without waiting, and says
// whether it got it. A dfim run holds one on each temporary file and backup
// while it uses them (the kernel drops it when the run dies), so another
// run cleaning up leftovers leaves them alone.
func tryLock(f *os.File) bool {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err == nil || errors.Is(err, errors.ErrUnsupported) // a file system without locks
		}
	}
}
