package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfim/dfim/infill"
)

// postAs sends body to url as the client with bearer key (any key: the
// test servers need none), and returns the status and error code. A
// request still unanswered after 30 s fails (a server that made it wait).
func postAs(t *testing.T, url, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("POST %s as %s: %v", url, key, err)
		return 0, ""
	}
	defer resp.Body.Close()
	var v struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v.Error.Code
}

// TestFloodingClientRefusedFirst: a client sending far more requests than
// its share fills its own part of the queue and gets 429 itself, while
// another client's requests are admitted and answered (issue 27, item
// 10: 48 connections of one client made 19 of 20 of another's get 429).
// The engine holds every fill until the test releases it.
func TestFloodingClientRefusedFirst(t *testing.T) {
	f := &fakeCompleter{text: "x", release: make(chan struct{}), started: make(chan struct{}, 64)}
	srv := newFakeServer(t, f, Options{Parallel: 1, MaxQueue: 8, MaxClientQueue: 2})
	url := srv.URL + "/v1/completions"
	var wg sync.WaitGroup
	results := make(chan [2]string, 64)
	send := func(key string) {
		wg.Go(func() {
			status, code := postAs(t, url, key, `{"prompt": "a"}`)
			results <- [2]string{key, fmt.Sprint(status, " ", code)}
		})
	}
	send("flood")
	<-f.started // flood's first request is on the engine
	for range 2 {
		send("flood")
	}
	waitFor(t, func() bool { return metricValue(t, srv.URL, "dfim_http_queue_depth") == 2 })
	// The flood goes on: each further request is refused at once.
	var flood sync.WaitGroup
	for range 10 {
		flood.Go(func() {
			if status, code := postAs(t, url, "flood", `{"prompt": "a"}`); status != 429 || code != "client_busy" {
				t.Errorf("the flooding client's request beyond its share: %d %s, want 429 client_busy", status, code)
			}
		})
	}
	flood.Wait()
	// Another client is still admitted.
	for range 2 {
		send("editor")
	}
	waitFor(t, func() bool { return metricValue(t, srv.URL, "dfim_http_queue_depth") == 4 })
	close(f.release)
	wg.Wait()
	close(results)
	for r := range results {
		if r[1] != "200 " {
			t.Errorf("%s's admitted request: %s, want 200", r[0], r[1])
		}
	}
}

// TestQueueClientCaps: one client may have clientMax requests waiting,
// and hold clientSlots slots; a ticket takes a slot only once ready (its
// body read), and a freed slot goes to the client holding the fewest.
func TestQueueClientCaps(t *testing.T) {
	q := newQueue(2, 10, 1, 1)
	relA, err := q.acquire(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := q.admit("a") // waits: a holds its one slot
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.admit("a"); err != errClientBusy {
		t.Errorf("a's third request: %v, want errClientBusy", err)
	}
	b1, _ := q.admit("b") // admitted, its body not read yet
	b2, _ := q.admit("b")
	granted := make(chan string, 4)
	wait := func(name string, tk *ticket) {
		go func() {
			if _, err := tk.wait(context.Background()); err == nil {
				granted <- name
			}
		}()
	}
	wait("b2", b2) // ready before b1: takes the free slot while b1's body is read
	if got := <-granted; got != "b2" {
		t.Errorf("granted %s, want b2", got)
	}
	wait("b1", b1) // b holds its one slot: b1 waits, whatever is free
	wait("a2", a2)
	relA()
	if got := <-granted; got != "a2" {
		t.Errorf("granted %s, want a2 (b holds its most slots)", got)
	}
	if q.depth() != 1 {
		t.Errorf("depth %d, want b1 waiting", q.depth())
	}
}

// rawRequest sends head (a request's start line and headers, without
// body) on a new connection to srv and returns the status line of the
// answer. The body is never sent: a server that waits for it does not
// answer, and the read fails after a minute.
func rawRequest(t *testing.T, addr, head string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer without the body (the server waited for it): %v", err)
	}
	return strings.TrimSpace(line)
}

// TestRefusedUnread: a declared body over the limit gets 413, and a
// request that finds the queue full 429, before the server reads a byte
// of the body (issue 27, item 11: 100 concurrent 2 MiB bodies were read
// and tokenized before admission, 884 MB RSS).
func TestRefusedUnread(t *testing.T) {
	f := &fakeCompleter{text: "x", release: make(chan struct{}), started: make(chan struct{}, 8)}
	srv := newFakeServer(t, f, Options{MaxBodyBytes: 1000, MaxQueue: 1, Parallel: 1})
	addr := strings.TrimPrefix(srv.URL, "http://")
	head := func(length int, key string) string {
		return fmt.Sprintf("POST /v1/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", addr, key, length)
	}
	if got := rawRequest(t, addr, head(5000, "a")); !strings.Contains(got, " 413 ") {
		t.Errorf("declared body over the limit: %q, want 413 at once", got)
	}
	// One fill on the engine, one waiting: the queue is full.
	var wg sync.WaitGroup
	for _, key := range []string{"a", "b"} {
		wg.Go(func() { postAs(t, srv.URL+"/v1/completions", key, `{"prompt": "a"}`) })
		if key == "a" {
			<-f.started
		}
	}
	waitFor(t, func() bool { return metricValue(t, srv.URL, "dfim_http_queue_depth") == 1 })
	if got := rawRequest(t, addr, head(500, "c")); !strings.Contains(got, " 429 ") {
		t.Errorf("request to a full queue: %q, want 429 at once", got)
	}
	close(f.release)
	wg.Wait()
}

// TestBodyTimeout: a body that does not come within BodyTimeout gets 408
// and gives up its place in the queue.
func TestBodyTimeout(t *testing.T) {
	srv := newFakeServer(t, &fakeCompleter{text: "x"}, Options{BodyTimeout: 50 * time.Millisecond})
	addr := strings.TrimPrefix(srv.URL, "http://")
	got := rawRequest(t, addr, fmt.Sprintf("POST /v1/completions HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\n{\"prompt\"", addr))
	if !strings.Contains(got, " 408 ") {
		t.Errorf("a body that never ends: %q, want 408", got)
	}
	if d := metricValue(t, srv.URL, "dfim_http_queue_depth"); d != 0 {
		t.Errorf("queue depth %v after the timeout, want 0", d)
	}
}

// TestBodiesBudget: beyond MaxBodiesBytes of bodies held at once, a
// request is refused with 429 before its body is read (the memory of
// many large bodies at once).
func TestBodiesBudget(t *testing.T) {
	f := &fakeCompleter{text: "x", release: make(chan struct{}), started: make(chan struct{}, 8)}
	srv := newFakeServer(t, f, Options{MaxBodyBytes: 1000, MaxBodiesBytes: 1000})
	addr := strings.TrimPrefix(srv.URL, "http://")
	done := make(chan struct{})
	go func() {
		defer close(done)
		postAs(t, srv.URL+"/v1/completions", "a", `{"prompt": "`+strings.Repeat("a", 600)+`"}`)
	}()
	<-f.started
	got := rawRequest(t, addr, fmt.Sprintf("POST /v1/completions HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer b\r\nContent-Length: 600\r\n\r\n", addr))
	if !strings.Contains(got, " 429 ") {
		t.Errorf("a body beyond the budget: %q, want 429 at once", got)
	}
	close(f.release)
	<-done
	if status, code := postAs(t, srv.URL+"/v1/completions", "b", `{"prompt": "`+strings.Repeat("a", 600)+`"}`); status != 200 {
		t.Errorf("after the first answer: %d %s, want 200 (the budget given back)", status, code)
	}
}

// TestLongFillOutlivesReadTimeout: the server's ReadTimeout bounds the
// reading of a request, not its fill: once the body is read, a fill (or
// a wait in the queue) may take longer.
func TestLongFillOutlivesReadTimeout(t *testing.T) {
	f := &fakeCompleter{text: "x", release: make(chan struct{}), started: make(chan struct{}, 1)}
	s := New(Options{BodyTimeout: 100 * time.Millisecond, Load: func(context.Context) (infill.Filler, error) { return f, nil }})
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	go func() {
		<-f.started
		time.Sleep(500 * time.Millisecond) // well past the ReadTimeout
		close(f.release)
	}()
	if status, code := postAs(t, srv.URL+"/v1/completions", "a", `{"prompt": "a"}`); status != 200 || f.cancels() != 0 {
		t.Errorf("a fill longer than the ReadTimeout: %d %s, %d fills cancelled; want 200", status, code, f.cancels())
	}
}

// TestClientKey: clients are told apart by address, bearer key (never
// shown) and User-Agent, all read from headers.
func TestClientKey(t *testing.T) {
	key := func(addr, auth, ua string) string {
		r := httptest.NewRequest("POST", "/v1/completions", nil)
		r.RemoteAddr = addr
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		r.Header.Set("User-Agent", ua)
		return clientKey(r)
	}
	vim, script := key("127.0.0.1:5000", "", "curl/8.5.0"), key("127.0.0.1:6000", "", "python-requests/2.31")
	if vim == script || vim != key("127.0.0.1:7000", "", "curl/8.5.0") {
		t.Errorf("keys %q %q: want tools told apart by User-Agent, one tool's connections alike", vim, script)
	}
	if k := key("10.0.0.2:1", "sk-secret", "curl/8.5.0"); strings.Contains(k, "sk-secret") || k == key("10.0.0.2:1", "other", "curl/8.5.0") {
		t.Errorf("key %q: want the bearer key told apart, hashed", k)
	}
}
