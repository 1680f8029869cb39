package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// threads is the number of goroutines a big kernel may use, the caller's
// included.
var threads atomic.Int32

func init() { threads.Store(int32(runtime.NumCPU())) }

// SetThreads sets how many goroutines a big kernel may use, the caller's
// included; n <= 0 restores the default, runtime.NumCPU().
func SetThreads(n int) {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	threads.Store(int32(n))
}

// Threads reports how many goroutines a big kernel may use.
func Threads() int { return int(threads.Load()) }

// A job is one parallelFor call: tasks 0..n-1, claimed one at a time by the
// caller and by whichever pool workers were idle when it started.
type job struct {
	next  atomic.Int64
	n     int64
	fn    func(task int)
	wg    sync.WaitGroup
	panic atomic.Pointer[any] // the first task's panic, raised again in the caller
}

// run claims and runs tasks until none are left. A task that panics in a
// worker must not take the process down (the daemon serves on): the value
// is kept for parallelFor to re-panic on the caller's goroutine, where a
// request's recover can see it, and the remaining tasks are skipped.
func (j *job) run(worker bool) {
	if worker {
		defer func() {
			if p := recover(); p != nil {
				j.panic.CompareAndSwap(nil, &p)
				j.next.Store(j.n)
			}
		}()
	}
	for {
		t := j.next.Add(1) - 1
		if t >= j.n {
			return
		}
		j.fn(int(t))
	}
}

// jobs hands a job to an idle worker. It is unbuffered and only ever sent to
// without blocking, so a job is given only to a worker that is waiting right
// now; a busy pool (or a kernel called from inside a worker) just leaves the
// caller to do the work itself, which can never deadlock.
var jobs = make(chan *job)

// workersMu guards workers, the number of pool goroutines started so far.
var (
	workersMu sync.Mutex
	workers   int
)

func ensureWorkers(n int) {
	workersMu.Lock()
	defer workersMu.Unlock()
	for workers < n {
		workers++
		go worker()
	}
}

func worker() {
	for j := range jobs {
		j.run(true)
		j.wg.Done()
	}
}

var jobPool = sync.Pool{New: func() any { return new(job) }}

// parallelFor runs fn(0..n-1) over up to Threads() goroutines and returns
// when all have run. Tasks should be big enough (tens of microseconds) to be
// worth a wake-up.
func parallelFor(n int, fn func(task int)) {
	th := Threads()
	if th > n {
		th = n
	}
	if th <= 1 {
		for t := 0; t < n; t++ {
			fn(t)
		}
		return
	}
	ensureWorkers(th - 1)
	j := jobPool.Get().(*job)
	j.next.Store(0)
	j.n = int64(n)
	j.fn = fn
	for h := 0; h < th-1; h++ {
		j.wg.Add(1)
		sent := false
		select {
		case jobs <- j:
			sent = true
		default:
		}
		if !sent {
			j.wg.Done()
			break
		}
	}
	func() {
		// Even when the caller's own tasks panic, wait for the workers:
		// they still use j, and fn's data.
		defer j.wg.Wait()
		j.run(false)
	}()
	if p := j.panic.Load(); p != nil {
		panic(*p) // j is not put back: a worker's panic is rare, and j is spent
	}
	j.fn = nil
	jobPool.Put(j)
}

// Parallel runs fn(0..n-1) over the kernels' goroutines, as the kernels
// split their own work, and returns when all have run: for callers with
// independent pieces of work too small to split inside (one attention
// head, one request's sampling). Tasks may call kernels.
func Parallel(n int, fn func(task int)) { parallelFor(n, fn) }
