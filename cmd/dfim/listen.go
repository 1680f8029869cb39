package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/dfim/dfim/index"
	"github.com/dfim/dfim/lsp"
)

// defaultIdleTimeout is how long a `serve --listen` session may stay
// silent (nothing read from the client, nothing written to it) before it
// is closed: long enough for a coffee break, short enough that clients
// that went away without closing give their file descriptors back.
const defaultIdleTimeout = 30 * time.Minute

// defaultHandshakeTimeout is how long a `serve --listen` session has to
// initialize (with the token): one that does not show it in time is not a
// client, and must not hold a file descriptor for the whole idle timeout.
const defaultHandshakeTimeout = time.Minute

// sessionLimits bound the time a TCP session may hold its connection.
type sessionLimits struct {
	// Idle: a session that reads and writes nothing this long is closed
	// (0: never).
	Idle time.Duration
	// Handshake: a session that has not initialized this long after it
	// connected is closed (0: never).
	Handshake time.Duration
}

// Accept backs off on errors that pass (the file limit reached, a
// connection reset before it was accepted) as net/http's Server does:
// 5 ms, doubling up to 1 s.
const (
	acceptMinDelay = 5 * time.Millisecond
	acceptMaxDelay = time.Second
)

// serveTCP serves each connection to ln with its own session, sharing
// loaded engines and the index caps, until ctx ends; limits bound how long
// a session may stay silent, or without initializing.
func serveTCP(ctx context.Context, ln net.Listener, opts lsp.Options, limits sessionLimits, log *zap.Logger) error {
	if opts.IndexBudget == nil {
		// The index caps hold for the server: a client opening many
		// sessions must not get them once each.
		opts.IndexBudget = index.NewBudget(0, 0, 0)
	}
	addr := ln.Addr().String()
	log.Info("listening", zap.String("addr", addr), zap.Duration("idleTimeout", limits.Idle))
	go func() { <-ctx.Done(); ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !temporaryAcceptError(err) {
				return fmt.Errorf("accepting on %s: %w", addr, err)
			}
			delay = max(acceptMinDelay, min(2*delay, acceptMaxDelay))
			log.Warn("accept failed; retrying (raise the file limit with ulimit -n if it says too many open files)",
				zap.String("addr", addr), zap.Error(err), zap.Duration("retryIn", delay))
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		delay = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			ic := newIdleConn(conn, limits)
			defer ic.Close()
			o := opts
			o.OnInitialize = ic.initialized
			err := lsp.NewServer(o).Serve(ctx, ic)
			if ic.timedOut() {
				log.Info("session closed: idle, or not initialized in time", zap.String("client", conn.RemoteAddr().String()),
					zap.Duration("idleTimeout", limits.Idle), zap.Duration("handshakeTimeout", limits.Handshake))
				return
			}
			log.Info("session ended", zap.String("client", conn.RemoteAddr().String()), zap.Error(err))
		}()
	}
}

// temporaryAcceptError reports whether Accept may succeed if tried again:
// the process or system ran out of file descriptors or buffers, or a
// client gave up before its connection was accepted.
func temporaryAcceptError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// idleConn is a connection whose every read and write must make progress
// within the idle timeout, and whose session must initialize within the
// handshake timeout: a client silent that long, one that stops reading
// what the server writes, or one that never shows the token has its
// session closed.
type idleConn struct {
	net.Conn
	idle time.Duration

	mu sync.Mutex
	// handshakeBy is when the session must have initialized; zero once it
	// has (or with no handshake timeout).
	handshakeBy time.Time
	expired     bool
}

func newIdleConn(conn net.Conn, limits sessionLimits) *idleConn {
	c := &idleConn{Conn: conn, idle: limits.Idle}
	if limits.Handshake > 0 {
		c.handshakeBy = time.Now().Add(limits.Handshake)
	}
	return c
}

// deadline is when the next read or write must be done by; zero: never.
func (c *idleConn) deadline() time.Time {
	var d time.Time
	if c.idle > 0 {
		d = time.Now().Add(c.idle)
	}
	c.mu.Lock()
	by := c.handshakeBy
	c.mu.Unlock()
	if !by.IsZero() && (d.IsZero() || by.Before(d)) {
		d = by
	}
	return d
}

// initialized lifts the handshake deadline, also from the read waiting now.
func (c *idleConn) initialized() {
	c.mu.Lock()
	c.handshakeBy = time.Time{}
	c.mu.Unlock()
	_ = c.Conn.SetReadDeadline(c.deadline())
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(c.deadline()); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.note(err)
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.deadline()); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.note(err)
	return n, err
}

// note records a deadline having passed.
func (c *idleConn) note(err error) {
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.mu.Lock()
		c.expired = true
		c.mu.Unlock()
	}
}

// timedOut reports whether the session ended because a deadline passed.
func (c *idleConn) timedOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expired
}
