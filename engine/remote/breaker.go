package remote

import (
	"sync"
	"time"
)

// A breaker is a circuit breaker over one server. Closed, calls go through;
// after threshold failures in a row it opens and calls fail at once for
// coolDown; then it is half-open: one probe call goes through, and its
// outcome closes the circuit or opens it for another coolDown. Failures are
// the server being unreachable or failing (5xx, timeouts, resets), never the
// caller cancelling or the server refusing a request it understood (4xx).
type breaker struct {
	threshold int
	coolDown  time.Duration
	now       func() time.Time

	// mu guards the fields below.
	mu        sync.Mutex
	failures  int       // consecutive failures
	openUntil time.Time // while open: when the next probe may go
	probing   bool      // half-open: a probe is in flight
	last      error     // the latest failure, for messages
}

func newBreaker(threshold int, coolDown time.Duration) *breaker {
	if threshold <= 0 {
		threshold = 1
	}
	return &breaker{threshold: threshold, coolDown: coolDown, now: time.Now}
}

// allow reports whether a call may go now; when it may not, it returns how
// long until the next probe and the failure that opened the circuit. A
// caller that was allowed must report the outcome with done.
func (b *breaker) allow() (ok bool, wait time.Duration, last error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.threshold {
		return true, 0, nil
	}
	now := b.now()
	if now.Before(b.openUntil) {
		return false, b.openUntil.Sub(now), b.last
	}
	if b.probing {
		// Another call is probing; fail fast rather than pile onto a server
		// that may still be down.
		return false, b.coolDown, b.last
	}
	b.probing = true
	return true, 0, nil
}

// isOpen reports whether calls fail fast now, without taking the
// half-open probe.
func (b *breaker) isOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures >= b.threshold && b.now().Before(b.openUntil)
}

// outcome is what a call tells the breaker.
type outcome int

const (
	succeeded outcome = iota // the server answered
	failed                   // unreachable, 5xx, timeout, reset
	abandoned                // the caller cancelled: says nothing about the server
)

// done records the outcome of a call that allow let through.
func (b *breaker) done(o outcome, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasProbe := b.probing
	b.probing = false
	switch o {
	case succeeded:
		b.failures = 0
		b.last = nil
	case failed:
		b.failures++
		b.last = err
		if b.failures >= b.threshold {
			b.openUntil = b.now().Add(b.coolDown)
		}
	case abandoned:
		if wasProbe {
			// The probe told us nothing; let the next call probe at once.
			b.openUntil = time.Time{}
		}
	}
}
