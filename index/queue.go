package index

import (
	"sync"
	"time"
)

// queue is the set of paths waiting for the updater, oldest first; a path
// queued twice is updated once.
type queue struct {
	// mu guards the fields below; cond signals pushes, pops and idleness.
	mu      sync.Mutex
	cond    *sync.Cond
	order   []string
	pending map[string]bool
	busy    bool
	closed  bool
}

func newQueue() *queue {
	q := &queue{pending: map[string]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) push(path string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.pending[path] {
		return
	}
	q.pending[path] = true
	q.order = append(q.order, path)
	q.cond.Broadcast()
}

// pop waits for a path; false once the queue is closed.
func (q *queue) pop() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", false
	}
	p := q.order[0]
	q.order = q.order[1:]
	delete(q.pending, p)
	q.busy = true
	return p, true
}

// finish marks the popped path done.
func (q *queue) finish() {
	q.mu.Lock()
	q.busy = false
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *queue) waitIdle() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for (len(q.order) > 0 || q.busy) && !q.closed {
		q.cond.Wait()
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// debouncer runs an action for a key once calls for it pause for delay.
type debouncer struct {
	delay time.Duration
	// mu guards timers.
	mu     sync.Mutex
	timers map[string]*time.Timer
}

func newDebouncer(delay time.Duration) *debouncer {
	return &debouncer{delay: delay, timers: map[string]*time.Timer{}}
}

// after (re)starts key's timer; f runs when it fires.
func (d *debouncer) after(key string, f func()) {
	if d.delay < 0 {
		f()
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[key]; t != nil {
		t.Stop()
	}
	d.timers[key] = time.AfterFunc(d.delay, func() {
		d.mu.Lock()
		delete(d.timers, key)
		d.mu.Unlock()
		f()
	})
}

// cancel drops key's pending action.
func (d *debouncer) cancel(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[key]; t != nil {
		t.Stop()
		delete(d.timers, key)
	}
}

// fireAll stops every pending timer and returns their keys, for the caller
// to act on now.
func (d *debouncer) fireAll() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keys []string
	for k, t := range d.timers {
		// A timer that fired already may not have queued its key yet:
		// the caller queues it too (a path queued twice is updated once,
		// or once more from the same text).
		t.Stop()
		keys = append(keys, k)
		delete(d.timers, k)
	}
	return keys
}
