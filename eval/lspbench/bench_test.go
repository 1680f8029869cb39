package lspbench

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is an in-process LSP server: it keeps the document from
// didOpen and incremental didChange, and answers inlineCompletion after
// delay with the next few characters of truth (so every suggestion is one
// the user would accept), or with nothing on every third request.
type fakeServer struct {
	truth string
	delay time.Duration
	// broken: every inline completion fails inside the server, which
	// answers it empty and counts it in dfim/stats, as dfim does.
	broken bool

	// mu guards the fields below.
	mu        sync.Mutex
	doc       string
	cancelled map[int64]bool
	requests  int
	failed    int
	clientOK  bool // the client answered our request
}

func (f *fakeServer) serve(t *testing.T, r io.Reader, w io.Writer) {
	br := bufio.NewReader(r)
	var wmu sync.Mutex
	send := func(v any) {
		body, _ := json.Marshal(v)
		wmu.Lock()
		defer wmu.Unlock()
		WriteMessage(w, body)
	}
	for {
		body, err := ReadMessage(br)
		if err != nil {
			return
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("fake server: bad message %s", body)
			return
		}
		var id int64
		json.Unmarshal(m.ID, &id)
		switch m.Method {
		case "initialize":
			send(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{"capabilities": map[string]any{"inlineCompletionProvider": map[string]any{}}}})
			// A server-to-client request the client must answer.
			send(map[string]any{"jsonrpc": "2.0", "id": "s1", "method": "window/workDoneProgress/create", "params": map[string]any{"token": "x"}})
			send(map[string]any{"jsonrpc": "2.0", "method": "window/logMessage", "params": map[string]any{"type": 3, "message": "hi"}})
		case "textDocument/didOpen":
			var p struct {
				TextDocument struct{ Text string } `json:"textDocument"`
			}
			json.Unmarshal(m.Params, &p)
			f.mu.Lock()
			f.doc = p.TextDocument.Text
			f.mu.Unlock()
		case "textDocument/didChange":
			var p struct {
				ContentChanges []struct {
					Range lspRange `json:"range"`
					Text  string   `json:"text"`
				} `json:"contentChanges"`
			}
			json.Unmarshal(m.Params, &p)
			f.mu.Lock()
			for _, c := range p.ContentChanges {
				a, b := offsetAt(f.doc, c.Range.Start), offsetAt(f.doc, c.Range.End)
				f.doc = f.doc[:a] + c.Text + f.doc[b:]
			}
			f.mu.Unlock()
		case "$/cancelRequest":
			var p struct{ ID int64 }
			json.Unmarshal(m.Params, &p)
			f.mu.Lock()
			f.cancelled[p.ID] = true
			f.mu.Unlock()
		case "textDocument/inlineCompletion":
			var p struct{ Position position }
			json.Unmarshal(m.Params, &p)
			f.mu.Lock()
			f.requests++
			n := f.requests
			pos := offsetAt(f.doc, p.Position)
			// The typed text so far is the truth's start, so the truth goes on from pos.
			next := f.truth[pos:min(len(f.truth), pos+6)]
			f.mu.Unlock()
			go func() {
				time.Sleep(f.delay)
				f.mu.Lock()
				cancelled := f.cancelled[id]
				if f.broken && !cancelled {
					f.failed++
				}
				f.mu.Unlock()
				switch {
				case cancelled:
					send(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": CodeRequestCancelled, "message": "cancelled"}})
				case f.broken:
					send(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{"items": []any{}}})
				case n%3 == 0:
					send(map[string]any{"jsonrpc": "2.0", "id": id, "result": nil})
				default:
					send(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{"items": []any{map[string]any{"insertText": next}}}})
				}
			}()
		case "dfim/stats":
			f.mu.Lock()
			st := map[string]any{"requests": f.requests, "failed": f.failed}
			if f.failed > 0 {
				st["lastFailure"] = "textDocument/inlineCompletion: syntax: operation limit was hit"
			}
			f.mu.Unlock()
			send(map[string]any{"jsonrpc": "2.0", "id": id, "result": st})
		case "shutdown":
			send(map[string]any{"jsonrpc": "2.0", "id": id, "result": nil})
		case "exit":
			return
		case "":
			if string(m.ID) == `"s1"` && string(m.Result) == "null" {
				f.mu.Lock()
				f.clientOK = true
				f.mu.Unlock()
			}
		default:
			if len(m.ID) > 0 {
				send(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": -32601, "message": "no such method"}})
			}
		}
	}
}

func runFake(t *testing.T, delay time.Duration, pacing Pacing, chars int) (Report, *fakeServer) {
	t.Helper()
	return runFakeServer(t, &fakeServer{delay: delay}, Config{Chars: chars, Pacing: pacing})
}

// runFakeServer types cfg (its Path, Text, Seed and FinalWait filled in
// here) into f.
func runFakeServer(t *testing.T, f *fakeServer, cfg Config) (Report, *fakeServer) {
	t.Helper()
	const truth = "package p\n\nfunc add(a, b int) int {\n\tsum := a + b\n\treturn sum\n}\n\nfunc sub(a, b int) int {\n\treturn a - b\n}\n"
	f.truth, f.cancelled = truth, map[int64]bool{}
	cfg.Path, cfg.Text, cfg.Seed, cfg.FinalWait = "/tmp/x/a.go", truth, 3, time.Second
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	done := make(chan struct{})
	go func() { f.serve(t, sr, sw); sw.Close(); close(done) }()
	c := NewClient(cr, cw)
	rep, err := Run(context.Background(), c, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := Shutdown(context.Background(), c); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	cw.Close()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.doc != truth {
		t.Fatalf("after typing, the server's document is\n%q\nwant the whole file\n%q", f.doc, truth)
	}
	if !f.clientOK {
		t.Error("the client did not answer the server's request")
	}
	return rep, f
}

func TestRunAgainstFakeServer(t *testing.T) {
	rep, _ := runFake(t, time.Millisecond, Pacing{Min: 25 * time.Millisecond, Max: 30 * time.Millisecond, Scale: 1}, 40)
	if rep.Chars != 40 || rep.Keystrokes == 0 || rep.Keystrokes > 40 {
		t.Errorf("typed %d chars in %d keystrokes, want 40 chars", rep.Chars, rep.Keystrokes)
	}
	if rep.RequestsSent != rep.Keystrokes {
		t.Errorf("sent %d requests for %d keystrokes, want one per keystroke", rep.RequestsSent, rep.Keystrokes)
	}
	if got := rep.Answered + rep.RequestsCancelled + rep.Errors; got != rep.RequestsSent {
		t.Errorf("answered %d + cancelled %d + errors %d = %d, want the %d sent", rep.Answered, rep.RequestsCancelled, rep.Errors, got, rep.RequestsSent)
	}
	if rep.Answered < rep.RequestsSent/2 {
		t.Errorf("only %d of %d requests answered with a 1 ms server and 25 ms pauses", rep.Answered, rep.RequestsSent)
	}
	if rep.SuggestionsShown == 0 || rep.SuggestionsShown >= rep.Answered {
		t.Errorf("%d suggestions shown of %d answers; every third answer is empty", rep.SuggestionsShown, rep.Answered)
	}
	if rep.AcceptedIfTyped != rep.SuggestionsShown {
		t.Errorf("accepted %d of %d suggestions, all of which were the text typed next", rep.AcceptedIfTyped, rep.SuggestionsShown)
	}
	// Each suggestion is the next 6 characters of the file, of which those
	// past the typed region are not typed: 0 to 6 characters taken.
	if rep.AcceptedChars == 0 || rep.AcceptedChars > 6*rep.SuggestionsShown {
		t.Errorf("%d characters accepted from %d suggestions of 6 characters each", rep.AcceptedChars, rep.SuggestionsShown)
	}
	if want := 100 * float64(rep.AcceptedChars) / float64(rep.Keystrokes); rep.Per100Keys.AcceptedChars != want {
		t.Errorf("accepted characters per 100 keystrokes %v, want %v", rep.Per100Keys.AcceptedChars, want)
	}
	if rep.Latency.P50 < 1 || rep.Latency.P95 < rep.Latency.P50 || rep.Latency.Max < rep.Latency.P95 {
		t.Errorf("latency %+v: want ≥ 1 ms (the server's delay) and ordered", rep.Latency)
	}
	if rep.Errors != 0 || rep.ServerFailures != 0 {
		t.Errorf("%d errors (%d inside the server): %s", rep.Errors, rep.ServerFailures, rep.FirstError)
	}
}

// TestRunCountsFailuresInsideTheServer: a server that answers every
// request empty because it failed inside (as dfim did when its parsers
// were left cancelled) must show as errors and failed quiet requests, not
// as a clean run that merely had nothing to suggest.
func TestRunCountsFailuresInsideTheServer(t *testing.T) {
	f := &fakeServer{delay: time.Millisecond, broken: true}
	rep, _ := runFakeServer(t, f, Config{Chars: 20, Quiet: 4, Pacing: Pacing{Min: 5 * time.Millisecond, Max: 6 * time.Millisecond, Scale: 1}})
	f.mu.Lock()
	failed := f.failed
	f.mu.Unlock()
	if failed == 0 || rep.ServerFailures != failed || rep.Errors != failed {
		t.Errorf("the server failed %d requests; the report has %d server failures and %d errors", failed, rep.ServerFailures, rep.Errors)
	}
	if rep.QuietSent != 4 || rep.QuietFailed != 4 || rep.QuietShown != 0 {
		t.Errorf("quiet requests: sent %d, failed %d, shown %d; want 4 sent, all failed", rep.QuietSent, rep.QuietFailed, rep.QuietShown)
	}
	if !strings.Contains(rep.FirstError, "operation limit") {
		t.Errorf("first error %q, want the server's last failure", rep.FirstError)
	}
	var b strings.Builder
	WriteTable(&b, rep)
	if !strings.Contains(b.String(), "failed inside the server") {
		t.Errorf("the table does not say requests failed inside the server:\n%s", b.String())
	}
}

func TestRunCancelsWhenTheServerIsSlow(t *testing.T) {
	// The server takes 200 ms, keys come every ~2 ms: all but the last request are cancelled.
	rep, f := runFake(t, 200*time.Millisecond, Pacing{Min: 2 * time.Millisecond, Max: 3 * time.Millisecond, Scale: 1}, 20)
	if rep.RequestsCancelled != rep.RequestsSent-1 || rep.Answered != 1 {
		t.Errorf("sent %d, cancelled %d, answered %d; want all but the last cancelled", rep.RequestsSent, rep.RequestsCancelled, rep.Answered)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cancelled) != rep.RequestsCancelled {
		t.Errorf("the server saw %d $/cancelRequest, the report says %d", len(f.cancelled), rep.RequestsCancelled)
	}
}

func TestKeystrokes(t *testing.T) {
	text := "if x {\n\t\treturn 1\n\t}\n"
	keys := Keystrokes(text, HumanPacing(), 9)
	var joined strings.Builder
	for _, k := range keys {
		joined.WriteString(k.Text)
		if k.Pause < 30*time.Millisecond {
			t.Errorf("key %q pause %v, below the 30 ms minimum", k.Text, k.Pause)
		}
	}
	if joined.String() != text {
		t.Fatalf("keys spell %q, want %q", joined.String(), text)
	}
	if keys[6].Text != "\n\t\t" {
		t.Errorf("newline key %q, want it to carry the next line's indentation", keys[6].Text)
	}
	if keys[6].Pause < 230*time.Millisecond {
		t.Errorf("line-end pause %v, want ≥ 230 ms", keys[6].Pause)
	}
	again := Keystrokes(text, HumanPacing(), 9)
	for i := range keys {
		if keys[i] != again[i] {
			t.Fatal("the same seed gave different keystrokes")
		}
	}
	fast := HumanPacing()
	fast.Scale = 0.1
	if f := Keystrokes(text, fast, 9); f[0].Pause*10 > keys[0].Pause+time.Microsecond || f[0].Pause*10 < keys[0].Pause-time.Microsecond {
		t.Errorf("pace 0.1 gives %v, want a tenth of %v", f[0].Pause, keys[0].Pause)
	}
	if u := Keystrokes("é😀", HumanPacing(), 1); len(u) != 2 || u[1].Text != "😀" {
		t.Errorf("keys of multi-byte text: %+v", u)
	}
}

func TestPositions(t *testing.T) {
	text := "a😀b\nxé\n"
	for _, c := range []struct {
		off int
		p   position
	}{{0, position{0, 0}}, {1, position{0, 1}}, {5, position{0, 3}}, {6, position{0, 4}}, {7, position{1, 0}}, {10, position{1, 2}}, {11, position{2, 0}}} {
		if got := positionAt(text, c.off); got != c.p {
			t.Errorf("positionAt(%d) = %v, want %v", c.off, got, c.p)
		}
		if got := offsetAt(text, c.p); got != c.off {
			t.Errorf("offsetAt(%v) = %d, want %d", c.p, got, c.off)
		}
	}
}

func TestRegion(t *testing.T) {
	start, end := Region(Sample, 200, 5)
	if start != 0 && Sample[start-1] != '\n' {
		t.Errorf("region starts at %d, not a line start", start)
	}
	if n := len([]rune(Sample[start:end])); n != 200 {
		t.Errorf("region has %d characters, want 200", n)
	}
	if s2, _ := Region(Sample, 200, 5); s2 != start {
		t.Error("the same seed chose another region")
	}
	if s, e := Region("short", 100, 1); s != 0 || e != 5 {
		t.Errorf("Region of a short text = %d, %d; want the whole text", s, e)
	}
}

func TestSuggestion(t *testing.T) {
	doc := "\tret\n}"
	for _, c := range []struct {
		result string
		want   string
		ok     bool
	}{
		{`null`, "", false},
		{`{"items":[]}`, "", false},
		{`{"items":[{"insertText":"urn x"}]}`, "urn x", true},
		{`[{"insertText":"urn x"}]`, "urn x", true},
		{`{"items":[{"insertText":"return x","range":{"start":{"line":0,"character":1},"end":{"line":0,"character":4}}}]}`, "urn x", true},
		{`{"items":[{"insertText":{"kind":"snippet","value":"urn ${1:x}"}}]}`, "urn ${1:x}", true},
		{`{"items":[{"insertText":"  "},{"insertText":"urn"}]}`, "urn", true},
	} {
		got, ok := suggestion(json.RawMessage(c.result), doc, 4)
		if got != c.want || ok != c.ok {
			t.Errorf("suggestion(%s) = %q, %v; want %q, %v", c.result, got, ok, c.want, c.ok)
		}
	}
}

// TestCountShownScriptedSession counts a scripted session's suggestions:
// shown, accepted if typed (the rest of the file starts with them), and
// the characters a user accepting word by word takes of what they go on
// to type, which stops at the end of the typed region.
func TestCountShownScriptedSession(t *testing.T) {
	file := "sum := a + b\nreturn sum\n}\n"
	end := len("sum := a + b\nreturn sum\n") // the region typed; "}\n" is already there
	rep := Report{Keystrokes: len(Keystrokes(file[:end], Pacing{}, 1))}
	for _, c := range []struct {
		typed      string // what the user has typed when the suggestion shows
		suggestion string
		accepted   bool
		chars      int
	}{
		{"sum := ", "a + b", true, 5},
		{"sum := a", " - b", false, 0},                  // wrong from its first word
		{"sum := a + b\n", "return sum + 1", false, 10}, // "return sum" taken, " +" is wrong
		{"sum := a + b\nret", "urn sum - 1", false, 7},
		{"sum := a + b\nreturn ", "sum\n}", true, 3}, // "}" is the file's, not typed: not taken
	} {
		if !strings.HasPrefix(file, c.typed) {
			t.Fatalf("bad script: %q is not typed", c.typed)
		}
		shown, accepted, chars := rep.SuggestionsShown, rep.AcceptedIfTyped, rep.AcceptedChars
		rep.countShown(c.suggestion, file[len(c.typed):end], file[len(c.typed):])
		if rep.SuggestionsShown != shown+1 || (rep.AcceptedIfTyped == accepted+1) != c.accepted || rep.AcceptedChars-chars != c.chars {
			t.Errorf("after %q, suggestion %q: accepted %v, %d characters; want %v, %d",
				c.typed, c.suggestion, rep.AcceptedIfTyped > accepted, rep.AcceptedChars-chars, c.accepted, c.chars)
		}
	}
	rep.rates()
	if rep.Keystrokes != 24 || rep.SuggestionsShown != 5 || rep.AcceptedIfTyped != 2 || rep.AcceptedChars != 25 {
		t.Fatalf("%d keystrokes, %d shown, %d accepted, %d characters; want 24, 5, 2, 25", rep.Keystrokes, rep.SuggestionsShown, rep.AcceptedIfTyped, rep.AcceptedChars)
	}
	want := PerKeystrokes{Shown: 500.0 / 24, AcceptedIfTyped: 200.0 / 24, AcceptedChars: 2500.0 / 24}
	if rep.Per100Keys != want || rep.AcceptRate != 0.4 {
		t.Errorf("per 100 keystrokes %+v, accept rate %v; want %+v, 0.4", rep.Per100Keys, rep.AcceptRate, want)
	}
	var b strings.Builder
	WriteTable(&b, rep)
	if !strings.Contains(b.String(), "per 100 keystrokes: shown 20.8, accepted if typed 8.3, accepted characters 104.2") {
		t.Errorf("the table does not give the rates per 100 keystrokes:\n%s", b.String())
	}
}
