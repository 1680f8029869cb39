package eval

import (
	"context"
	"sync"
	"time"

	"github.com/dfim/dfim/engine"
)

// usage is what the engine did for one task: the denoiser calls the infill
// pipeline made for it (candidates, repair rounds), their filled tokens and
// the wall time spent inside the engine.
type usage struct {
	// mu guards the fields below: a pipeline may call the engine concurrently.
	mu         sync.Mutex
	tokens     int
	engineTime time.Duration
}

type usageKey struct{}

// meter wraps a Denoiser and adds each call's tokens and time to the usage
// found in the call's context, so concurrent tasks are accounted apart.
type meter struct{ inner engine.Denoiser }

func (m meter) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	start := time.Now()
	res, err := m.inner.Infill(ctx, req)
	if u, ok := ctx.Value(usageKey{}).(*usage); ok {
		u.mu.Lock()
		u.tokens += res.Tokens
		u.engineTime += time.Since(start)
		u.mu.Unlock()
	}
	return res, err
}

func (m meter) Close() error { return m.inner.Close() }

// Optional engine interfaces are found by type assertion, so the wrapper
// must offer exactly those its engine offers: one type per combination.
type (
	meterT struct {
		meter
		engine.TokenCounter
	}
	meterC struct {
		meter
		engine.ContextSizer
	}
	meterD struct {
		meter
		engine.Describer
	}
	meterTC struct {
		meter
		engine.TokenCounter
		engine.ContextSizer
	}
	meterTD struct {
		meter
		engine.TokenCounter
		engine.Describer
	}
	meterCD struct {
		meter
		engine.ContextSizer
		engine.Describer
	}
	meterTCD struct {
		meter
		engine.TokenCounter
		engine.ContextSizer
		engine.Describer
	}
)

// metered returns d wrapped in a meter that keeps d's optional interfaces.
func metered(d engine.Denoiser) engine.Denoiser {
	m := meter{d}
	t, isT := d.(engine.TokenCounter)
	c, isC := d.(engine.ContextSizer)
	s, isD := d.(engine.Describer)
	switch {
	case isT && isC && isD:
		return meterTCD{m, t, c, s}
	case isT && isC:
		return meterTC{m, t, c}
	case isT && isD:
		return meterTD{m, t, s}
	case isC && isD:
		return meterCD{m, c, s}
	case isT:
		return meterT{m, t}
	case isC:
		return meterC{m, c}
	case isD:
		return meterD{m, s}
	}
	return m
}
