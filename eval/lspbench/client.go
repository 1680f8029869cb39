package lspbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"sync"
)

// A Response is the answer to one request: Result, or Error when it failed.
type Response struct {
	Result json.RawMessage
	Error  *RPCError
}

// RPCError is a JSON-RPC error object.
type RPCError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("jsonrpc error %d: %s", e.Code, e.Message) }

// CodeRequestCancelled is LSP's error code for a request the client cancelled.
const CodeRequestCancelled = -32800

// message is any JSON-RPC 2.0 message, as read.
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}

// A Client speaks JSON-RPC 2.0 with Content-Length framing (the LSP base
// protocol) over a reader and a writer. Requests from the server are
// answered with a null result, which is what a minimal editor does;
// notifications from the server are counted and dropped.
type Client struct {
	// wmu serialises writes: a message must go out whole.
	wmu sync.Mutex
	w   io.Writer

	// mu guards the fields below.
	mu            sync.Mutex
	nextID        int64
	pending       map[int64]chan Response
	readErr       error // why the read loop ended
	notifications map[string]int

	done chan struct{} // closed when the read loop ends
}

// NewClient starts reading r for the server's messages.
func NewClient(r io.Reader, w io.Writer) *Client {
	c := &Client{w: w, pending: map[int64]chan Response{}, notifications: map[string]int{}, done: make(chan struct{})}
	go c.readLoop(bufio.NewReaderSize(r, 1<<16))
	return c
}

// Go sends a request and returns its id and a channel that receives the
// response once (buffered: a response nobody waits for is dropped).
func (c *Client) Go(method string, params any) (int64, <-chan Response, error) {
	c.mu.Lock()
	if c.readErr != nil {
		err := c.readErr
		c.mu.Unlock()
		return 0, nil, fmt.Errorf("sending %s: the server's connection is closed: %w", method, err)
	}
	c.nextID++
	id := c.nextID
	ch := make(chan Response, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return 0, nil, fmt.Errorf("sending %s: %w", method, err)
	}
	return id, ch, nil
}

// Call sends a request and waits for its response; an error response is
// returned as a *RPCError.
func (c *Client) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	id, ch, err := c.Go(method, params)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %w", method, r.Error)
		}
		return r.Result, nil
	case <-c.done:
		return nil, fmt.Errorf("%s: no answer before the server's connection closed: %w", method, c.Err())
	case <-ctx.Done():
		c.Cancel(id)
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Notify sends a notification.
func (c *Client) Notify(method string, params any) error {
	if err := c.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params}); err != nil {
		return fmt.Errorf("sending %s: %w", method, err)
	}
	return nil
}

// Cancel sends $/cancelRequest for id.
func (c *Client) Cancel(id int64) error {
	return c.Notify("$/cancelRequest", map[string]any{"id": id})
}

// Done is closed when the server's side of the connection ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (io.EOF for a clean close); nil while open.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Notifications counts the notifications the server sent, by method.
func (c *Client) Notifications() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.notifications))
	for k, v := range c.notifications {
		out[k] = v
	}
	return out
}

func (c *Client) write(v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return WriteMessage(c.w, body)
}

func (c *Client) readLoop(r *bufio.Reader) {
	var err error
	for {
		var body []byte
		body, err = ReadMessage(r)
		if err != nil {
			break
		}
		var m message
		if jerr := json.Unmarshal(body, &m); jerr != nil {
			err = fmt.Errorf("the server sent a message that is not JSON: %v", jerr)
			break
		}
		c.dispatch(&m)
	}
	c.mu.Lock()
	c.readErr = err
	c.mu.Unlock()
	close(c.done)
}

func (c *Client) dispatch(m *message) {
	switch {
	case m.Method != "" && len(m.ID) > 0: // a request from the server
		go c.write(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": nil})
	case m.Method != "": // a notification
		c.mu.Lock()
		c.notifications[m.Method]++
		c.mu.Unlock()
	default: // a response
		id, err := strconv.ParseInt(string(bytes.Trim(m.ID, `"`)), 10, 64)
		if err != nil {
			return // not one of ours: our ids are numbers
		}
		c.mu.Lock()
		ch, ok := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ok {
			ch <- Response{Result: m.Result, Error: m.Error}
		}
	}
}

// ReadMessage reads one Content-Length framed message body from r.
func ReadMessage(r *bufio.Reader) ([]byte, error) {
	tp := textproto.NewReader(r)
	header, err := tp.ReadMIMEHeader()
	if err != nil {
		if errors.Is(err, io.EOF) && len(header) == 0 {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("reading a message header: %w", err)
	}
	cl := header.Get("Content-Length")
	n, err := strconv.Atoi(cl)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("message header has Content-Length %q, want a byte count", cl)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("reading a %d-byte message body: %w", n, err)
	}
	return body, nil
}

// WriteMessage writes one Content-Length framed message body to w.
func WriteMessage(w io.Writer, body []byte) error {
	if _, err := fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}
