package httpapi

import (
	"context"
	"errors"
	"sync"
)

// Why a request was refused with 429.
var (
	errQueueFull  = errors.New("httpapi: queue full")
	errClientBusy = errors.New("httpapi: the client has its most requests in the queue")
)

// A queue admits fills to the engine, slots at a time, and makes the rest
// wait fairly. A request is admitted (given a place in line) before its
// body is read, so that a refused one costs nothing; it may take a slot
// only once it is ready (its body read and checked). Each client has its
// own first-in-first-out line; a freed slot goes to the ready client
// holding the fewest slots, round robin among equals, so one client
// sending many requests at once delays only itself. At most max requests
// wait over all clients and clientMax for one client; one more is
// refused. A client holds at most clientSlots slots at once. A waiter
// whose context ends (the client disconnected) leaves the line.
type queue struct {
	max, clientMax, clientSlots int

	// mu guards the fields below.
	mu      sync.Mutex
	free    int                     // slots not in use
	clients map[string]*clientQueue // clients with waiters or slots
	turn    []string                // clients with waiters, in the order they are served
	waiting int                     // admitted tickets not holding a slot
}

// clientQueue is one client's state in the queue.
type clientQueue struct {
	line    []*ticket // waiting, oldest first
	running int       // slots held
}

// A ticket is one admitted request's place in the queue.
type ticket struct {
	q       *queue
	client  string
	granted chan struct{} // closed when the ticket holds a slot

	// guarded by q.mu:
	ready   bool // may take a slot
	holding bool // holds a slot
	gone    bool // left the queue, or its slot was released
}

// newQueue makes a queue of slots slots; max requests may wait, clientMax
// of one client, who may hold at most clientSlots slots (0: all).
func newQueue(slots, max, clientMax, clientSlots int) *queue {
	slots = max1(slots)
	if clientSlots <= 0 || clientSlots > slots {
		clientSlots = slots
	}
	return &queue{max: max, clientMax: clientMax, clientSlots: clientSlots, free: slots, clients: map[string]*clientQueue{}}
}

func max1(n int) int { return max(n, 1) }

// admit gives client a place in line, or says at once why not:
// errQueueFull when max requests wait already (free slots make room for
// as many more), errClientBusy when client has its most requests in the
// queue (clientMax waiting, and the slots it may yet take).
func (q *queue) admit(client string) (*ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting >= q.max+q.free {
		return nil, errQueueFull
	}
	c := q.clients[client]
	if c == nil {
		c = &clientQueue{}
		q.clients[client] = c
	}
	if len(c.line)+c.running >= q.clientMax+q.clientSlots {
		q.forget(client, c)
		return nil, errClientBusy
	}
	t := &ticket{q: q, client: client, granted: make(chan struct{})}
	if len(c.line) == 0 {
		q.turn = append(q.turn, client)
	}
	c.line = append(c.line, t)
	q.waiting++
	return t, nil
}

// acquire is admit and wait, for a request that is ready at once.
func (q *queue) acquire(ctx context.Context, client string) (release func(), err error) {
	t, err := q.admit(client)
	if err != nil {
		return nil, err
	}
	return t.wait(ctx)
}

// wait marks t ready and waits for a slot, or for ctx to end (then t
// leaves the line). release frees the slot; calling it again is harmless.
func (t *ticket) wait(ctx context.Context) (release func(), err error) {
	q := t.q
	q.mu.Lock()
	if t.gone {
		q.mu.Unlock()
		return nil, errors.New("httpapi: ticket used twice")
	}
	t.ready = true
	q.dispatch()
	q.mu.Unlock()

	select {
	case <-t.granted:
		if ctx.Err() == nil {
			var once sync.Once
			return func() { once.Do(t.leave) }, nil
		}
		// Granted as the client left (select picks either case when both
		// are ready): the fill must not start, the slot passes on.
	case <-ctx.Done():
	}
	t.leave()
	return nil, ctx.Err()
}

// leave takes t out of the queue: out of its line, or out of its slot,
// which passes to the next client in turn. Calling it again is harmless.
func (t *ticket) leave() {
	q := t.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if t.gone {
		return
	}
	t.gone = true
	c := q.clients[t.client]
	if t.holding {
		c.running--
		q.free++
	} else {
		for i, x := range c.line {
			if x == t {
				c.line = append(c.line[:i:i], c.line[i+1:]...)
				break
			}
		}
		q.waiting--
		if len(c.line) == 0 {
			q.dropTurn(t.client)
		}
	}
	q.forget(t.client, c)
	q.dispatch()
}

// dispatch hands free slots to ready waiters: each to the client holding
// the fewest slots, the earliest in turn among equals, which then goes to
// the back of the round. q.mu must be held.
func (q *queue) dispatch() {
	for q.free > 0 {
		best, bestAt := (*clientQueue)(nil), -1
		for i, name := range q.turn {
			c := q.clients[name]
			if c.running >= q.clientSlots || firstReady(c.line) < 0 {
				continue
			}
			if best == nil || c.running < best.running {
				best, bestAt = c, i
			}
		}
		if best == nil {
			return
		}
		name := q.turn[bestAt]
		i := firstReady(best.line)
		t := best.line[i]
		best.line = append(best.line[:i:i], best.line[i+1:]...)
		q.turn = append(q.turn[:bestAt:bestAt], q.turn[bestAt+1:]...)
		if len(best.line) > 0 {
			q.turn = append(q.turn, name) // back of the round
		}
		q.waiting--
		q.free--
		best.running++
		t.holding = true
		close(t.granted)
	}
}

func firstReady(line []*ticket) int {
	for i, t := range line {
		if t.ready {
			return i
		}
	}
	return -1
}

// dropTurn takes client out of the round. q.mu must be held.
func (q *queue) dropTurn(client string) {
	for i, c := range q.turn {
		if c == client {
			q.turn = append(q.turn[:i:i], q.turn[i+1:]...)
			return
		}
	}
}

// forget drops a client with nothing in the queue. q.mu must be held.
func (q *queue) forget(name string, c *clientQueue) {
	if len(c.line) == 0 && c.running == 0 {
		delete(q.clients, name)
	}
}

// depth is the number of requests waiting (admitted, not yet filling).
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

// A budget is an amount shared by requests, such as the bytes of bodies
// held.
type budget struct {
	max int64

	mu   sync.Mutex
	used int64 // guarded by mu
}

// take takes n of the budget, or reports false when it would exceed max.
// One request may always take it all.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > 0 && b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

// give gives n back.
func (b *budget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
}
