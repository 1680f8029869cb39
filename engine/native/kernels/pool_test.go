package kernels

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelPanics: a task that panics, on a worker or on the caller,
// comes back as a panic of the caller's (the process lives on), and the
// pool keeps working after it.
func TestParallelPanics(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	for _, bad := range []int{0, 5, 63} {
		got := func() (p any) {
			defer func() { p = recover() }()
			Parallel(64, func(task int) {
				time.Sleep(100 * time.Microsecond) // let the workers take some
				if task == bad {
					panic("boom")
				}
			})
			return nil
		}()
		if got != "boom" {
			t.Errorf("task %d panicked: Parallel panicked with %v, want boom", bad, got)
		}
	}
	var sum atomic.Int64
	Parallel(100, func(task int) { sum.Add(int64(task)) })
	if sum.Load() != 4950 {
		t.Errorf("after the panics the pool summed %d, want 4950", sum.Load())
	}
}
