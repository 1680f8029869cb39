//go:build dfim_e2e_fake

package main

import (
	"context"
	"strings"
	"time"

	"github.com/dfim/dfim/engine"
)

// e2efake is a test-only engine, compiled in only with -tags dfim_e2e_fake,
// for running the lsp end-to-end tests (DFIM_E2E_ENGINE=e2efake) before or
// without the native engine. It fills every hole with fixed text after two
// observed steps: "name)" after an open parenthesis (where the e2e tests
// ask), "e2e_fill()" elsewhere.
func init() {
	engine.Register("e2efake", func(engine.Config) (engine.Denoiser, error) { return e2eFake{}, nil })
}

type e2eFake struct{}

func (e2eFake) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	start := time.Now()
	fill := "e2e_fill()"
	var holes []string
	for i, s := range req.Segments {
		if s.Hole {
			if i > 0 && strings.HasSuffix(req.Segments[i-1].Text, "(") {
				fill = "name)"
			}
			holes = append(holes, fill)
		}
	}
	for i := range 2 {
		if err := ctx.Err(); err != nil {
			return engine.Result{}, err
		}
		if req.Observe != nil {
			st := engine.Step{Index: i}
			for range holes {
				st.Holes = append(st.Holes, engine.HoleState{Text: fill[:len(fill)*(i+1)/2]})
			}
			req.Observe(st)
		}
	}
	return engine.Result{Candidates: []engine.Fill{{Holes: holes, Tokens: []int{3}, Confidence: 0.9}},
		Steps: 2, Tokens: 3, Elapsed: time.Since(start)}, nil
}

func (e2eFake) Close() error { return nil }
