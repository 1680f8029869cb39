package native

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/gguf"
)

// batchRequests are canvases of different lengths and shapes, with
// different schedules: what a team's requests look like.
func batchRequests() []engine.Request {
	var reqs []engine.Request
	for i, p := range []string{goPrefix, "def f(x):\n    return ", "for (int i = 0; i < n; i++) {\n  sum += ", "SELECT name FROM users WHERE ", "x := "} {
		opts := engine.Options{Seed: uint64(i), Steps: 4 + 2*i}
		switch i {
		case 1:
			opts.Candidates, opts.Temperature = 3, 1
		case 2:
			opts.Algorithm = engine.LowConfidence
		case 3:
			opts.ExactLength = true
		}
		reqs = append(reqs, engine.Request{Segments: lineCanvas(p, "\n}\n", 6+3*i), Opts: opts})
	}
	// Two holes in one canvas.
	reqs = append(reqs, engine.Request{Segments: []engine.Segment{{Text: "x := "}, {Hole: true, MaxTok: 4}, {Text: "\ny := "}, {Hole: true, MaxTok: 6}, {Text: "\n"}},
		Opts: engine.Options{Steps: 5}})
	return reqs
}

// holdRounds keeps d from stepping until release(n) sees n requests
// joined, so that they are sure to share rounds. Call it before starting
// the requests.
func holdRounds(t *testing.T, d *Denoiser) (release func(n int)) {
	t.Helper()
	d.stepper <- struct{}{}
	return func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			d.joinMu.Lock()
			joined := len(d.joining)
			d.joinMu.Unlock()
			if joined == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d requests joined", joined, n)
			}
			time.Sleep(time.Millisecond)
		}
		<-d.stepper
	}
}

// inOneBatch runs reqs on d at once (ctxs[i] for request i; nil: a
// background context), all joining d's first round, and returns their
// results and errors.
func inOneBatch(t *testing.T, d *Denoiser, ctxs []context.Context, reqs []engine.Request) ([]engine.Result, []error) {
	t.Helper()
	got, errs := make([]engine.Result, len(reqs)), make([]error, len(reqs))
	var wg sync.WaitGroup
	release := holdRounds(t, d)
	for i, req := range reqs {
		ctx := context.Background()
		if i < len(ctxs) && ctxs[i] != nil {
			ctx = ctxs[i]
		}
		wg.Go(func() { got[i], errs[i] = d.Infill(ctx, req) })
	}
	release(len(reqs))
	wg.Wait()
	return got, errs
}

// sameAsAlone checks batched results against the same requests' alone,
// elapsed times aside.
func sameAsAlone(t *testing.T, got, want []engine.Result, errs []error) {
	t.Helper()
	for i := range want {
		if errs[i] != nil {
			t.Errorf("request %d: %v", i, errs[i])
			continue
		}
		got[i].Elapsed, want[i].Elapsed = 0, 0
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("request %d: batched %+v\nalone %+v", i, got[i].Candidates, want[i].Candidates)
		}
	}
}

// TestBatchedFillsMatchAlone: requests stepped together in one batch get
// exactly the fills, log-probabilities and step counts they get one at a
// time, for both architectures and every weight path the batch crosses.
func TestBatchedFillsMatchAlone(t *testing.T) {
	for _, cfg := range []tinyConfig{llada(gguf.TypeQ8_0), dream(gguf.TypeF32), kquant(gguf.TypeQ4_K)} {
		t.Run(cfg.arch+"/"+cfg.typ.String(), func(t *testing.T) {
			// No prefix cache: what it holds depends on the order requests
			// finish, batched or not.
			s := Settings{RefreshEvery: 3, Copy: DefaultSettings.Copy, Ident: DefaultIdent}
			alone := newTiny(t, cfg, s)
			s.Batch = 4 // fewer than the requests: some wait for a later round
			batched := newTiny(t, cfg, s)
			reqs := batchRequests()
			want := make([]engine.Result, len(reqs))
			for i, req := range reqs {
				want[i] = infill(t, alone, req)
			}
			got, errs := inOneBatch(t, batched, nil, reqs)
			if batched.widest != 4 {
				t.Errorf("at most %d requests stepped together, want 4", batched.widest)
			}
			sameAsAlone(t, got, want, errs)
		})
	}
}

// TestBatchCancelAndClose: a request cancelled in a batch stops with its
// context's error and the others finish as they would alone; requests
// under way at Close end with an error, and later ones are refused.
func TestBatchCancelAndClose(t *testing.T) {
	s := DefaultSettings
	s.PrefixReuse = 0
	d := newTiny(t, llada(gguf.TypeF32), s)
	reqs := batchRequests()[:3]
	want := make([]engine.Result, len(reqs))
	for i, req := range reqs {
		want[i] = infill(t, d, req)
	}
	ctx, cancel := context.WithCancel(context.Background())
	long := engine.Request{Segments: lineCanvas(goPrefix, goSuffix, 16),
		Opts:    engine.Options{Algorithm: engine.LowConfidence, Steps: 16, ExactLength: true},
		Observe: func(engine.Step) { cancel() }}
	got, errs := inOneBatch(t, d, []context.Context{ctx}, append([]engine.Request{long}, reqs...))
	if !errors.Is(errs[0], context.Canceled) {
		t.Errorf("the cancelled request: error %v, want context.Canceled", errs[0])
	}
	sameAsAlone(t, got[1:], want, errs[1:])

	// Close while two requests wait for their first round.
	var closed sync.WaitGroup
	closed.Go(func() {
		time.Sleep(time.Millisecond)
		d.Close()
	})
	_, errs = inOneBatch(t, d, nil, reqs[:2])
	closed.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, errClosed) {
			t.Errorf("request %d at Close: %v, want a result or %v", i, err, errClosed)
		}
	}
	if _, err := d.Infill(context.Background(), reqs[0]); err == nil {
		t.Error("Infill after Close succeeded")
	}
}

// TestBatchedCopyOnly: the no-model baseline batches too (its steps have
// no passes at all), and copies what it copies alone.
func TestBatchedCopyOnly(t *testing.T) {
	s := DefaultSettings
	s.CopyOnly = true
	d := newTiny(t, llada(gguf.TypeF32), s)
	src := "total := sum(values)\nfmt.Println(total)\n"
	req := func(i int) engine.Request {
		return engine.Request{Segments: lineCanvas(fmt.Sprintf("// %d\ntotal := ", i), "\n", 16), Sources: []string{src}}
	}
	var wg sync.WaitGroup
	got := make([]string, 4)
	release := holdRounds(t, d)
	for i := range got {
		wg.Go(func() {
			res, err := d.Infill(context.Background(), req(i))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			got[i] = res.Candidates[0].Holes[0]
		})
	}
	release(len(got))
	wg.Wait()
	for i, g := range got {
		if want := infill(t, d, req(i)).Candidates[0].Holes[0]; g != want || !strings.HasPrefix(g, "sum(values)") {
			t.Errorf("request %d: batched copy fill %q, alone %q (want sum(values)...)", i, g, want)
		}
	}
}

// TestBatchSurvivesAPanic: a request whose step panics (here its
// observer) fails alone with an error; the others of its batch finish as
// alone, and the Denoiser serves on.
func TestBatchSurvivesAPanic(t *testing.T) {
	s := DefaultSettings
	s.PrefixReuse = 0
	d := newTiny(t, llada(gguf.TypeF32), s)
	reqs := batchRequests()[:3]
	want := make([]engine.Result, len(reqs))
	for i, req := range reqs {
		want[i] = infill(t, d, req)
	}
	bad := engine.Request{Segments: lineCanvas(goPrefix, goSuffix, 8), Observe: func(engine.Step) { panic("observer bug") }}
	got, errs := inOneBatch(t, d, nil, append([]engine.Request{bad}, reqs...))
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "observer bug") {
		t.Errorf("the panicking request: error %v, want one naming the panic", errs[0])
	}
	sameAsAlone(t, got[1:], want, errs[1:])
	infill(t, d, reqs[0]) // still serving
}
