package httpapi

import (
	"context"
	"testing"
	"time"
)

// TestQueueFair: a client with many waiting requests does not hold back
// another's: freed slots go round the clients in turn.
func TestQueueFair(t *testing.T) {
	q := newQueue(1, 10, 10, 0)
	release, err := q.acquire(context.Background(), "first")
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 10)
	wait := func(client string) {
		go func() {
			rel, err := q.acquire(context.Background(), client)
			if err != nil {
				t.Error(err)
				return
			}
			order <- client
			rel()
		}()
		waitFor(t, func() bool { return q.depth() > 0 && q.has(client) })
	}
	for range 3 {
		wait("greedy")
	}
	wait("polite")
	release()
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	if got[0] != "greedy" || got[1] != "polite" {
		t.Errorf("served %v, want the polite client second (round robin), not after all greedy requests", got)
	}
}

// TestQueueLimitAndCancel: beyond max waiters acquire fails at once; a
// waiter whose context ends leaves the line.
func TestQueueLimitAndCancel(t *testing.T) {
	q := newQueue(1, 1, 1, 0)
	release, _ := q.acquire(context.Background(), "a")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.acquire(ctx, "b")
		errc <- err
	}()
	waitFor(t, func() bool { return q.depth() == 1 })
	if _, err := q.acquire(context.Background(), "c"); err != errQueueFull {
		t.Errorf("acquire beyond the queue: %v, want errQueueFull", err)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Errorf("cancelled waiter: %v", err)
	}
	if q.depth() != 0 {
		t.Errorf("depth %d after the waiter left", q.depth())
	}
	release()
	rel, err := q.acquire(context.Background(), "d")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	rel()
	rel() // twice is harmless
	if q.busy(1) != 0 {
		t.Errorf("busy %d after release", q.busy(1))
	}
}

func (q *queue) has(client string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.clients[client]
	return c != nil && len(c.line) > 0
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
