package httpapi

import (
	"context"
	"errors"
	"sync"
)

// errQueueFull is why a request was refused with 429.
var errQueueFull = errors.New("httpapi: queue full")

// A queue admits fills to the engine, slots at a time, and makes the rest
// wait fairly: each client (the request's "user" field, else its address)
// has its own first-in-first-out line, and a freed slot goes to the next
// client in turn (round robin), so one client sending many requests at
// once delays only itself. At most max requests wait; one more is
// refused. A waiter whose context ends (the client disconnected) leaves
// the line.
type queue struct {
	max int

	// mu guards the fields below.
	mu      sync.Mutex
	free    int                  // slots not in use
	lines   map[string][]*waiter // each client's waiters, oldest first
	turn    []string             // clients with waiters, in the order they are served
	waiting int
}

type waiter struct {
	client  string
	ready   chan struct{} // closed when the waiter holds a slot
	granted bool
}

func newQueue(slots, max int) *queue {
	return &queue{max: max, free: max1(slots), lines: map[string][]*waiter{}}
}

func max1(n int) int { return max(n, 1) }

// acquire waits for a slot for client. It returns errQueueFull at once
// when max requests wait already, or ctx's error when ctx ends first.
// release frees the slot.
func (q *queue) acquire(ctx context.Context, client string) (release func(), err error) {
	q.mu.Lock()
	if q.free > 0 && q.waiting == 0 {
		q.free--
		q.mu.Unlock()
		return q.releaseOnce(), nil
	}
	if q.waiting >= q.max {
		q.mu.Unlock()
		return nil, errQueueFull
	}
	w := &waiter{client: client, ready: make(chan struct{})}
	if len(q.lines[client]) == 0 {
		q.turn = append(q.turn, client)
	}
	q.lines[client] = append(q.lines[client], w)
	q.waiting++
	q.mu.Unlock()

	select {
	case <-w.ready:
		if ctx.Err() == nil {
			return q.releaseOnce(), nil
		}
		// Granted as the client left (select picks either case when both
		// are ready): the fill must not start, the slot passes on.
		q.release()
		return nil, ctx.Err()
	case <-ctx.Done():
	}
	q.mu.Lock()
	if w.granted { // the slot came as the context ended: pass it on
		q.mu.Unlock()
		q.release()
		return nil, ctx.Err()
	}
	line := q.lines[client]
	for i, x := range line {
		if x == w {
			line = append(line[:i:i], line[i+1:]...)
			break
		}
	}
	q.setLine(client, line)
	q.waiting--
	q.mu.Unlock()
	return nil, ctx.Err()
}

func (q *queue) releaseOnce() func() {
	var once sync.Once
	return func() { once.Do(q.release) }
}

// release hands the slot to the next client in turn, or frees it.
func (q *queue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.turn) == 0 {
		q.free++
		return
	}
	client := q.turn[0]
	q.turn = q.turn[1:]
	line := q.lines[client]
	w := line[0]
	line = line[1:]
	if len(line) > 0 {
		q.turn = append(q.turn, client) // back of the round
		q.lines[client] = line
	} else {
		delete(q.lines, client)
	}
	q.waiting--
	w.granted = true
	close(w.ready)
}

// setLine stores client's line, dropping the client from the round when
// the line is empty. q.mu must be held.
func (q *queue) setLine(client string, line []*waiter) {
	if len(line) > 0 {
		q.lines[client] = line
		return
	}
	delete(q.lines, client)
	for i, c := range q.turn {
		if c == client {
			q.turn = append(q.turn[:i:i], q.turn[i+1:]...)
			break
		}
	}
}

// depth is the number of requests waiting.
func (q *queue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting
}

// busy is the number of slots in use.
func (q *queue) busy(slots int) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return max1(slots) - q.free
}
