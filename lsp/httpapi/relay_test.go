package httpapi

import (
	"runtime"
	"slices"
	"testing"

	"github.com/dfim/dfim/infill"
)

// TestStepRelayKeepsFirstAndLast: when the writer lags behind the engine
// (a loaded machine: here GOMAXPROCS 1, so the writer cannot run until
// every step is handed over), the relay still delivers the first step
// (the masked start a diffusing client shows) and the last, in order.
func TestStepRelayKeepsFirstAndLast(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var got []int
	r := newStepRelay(func(st infill.Step) { got = append(got, st.Index) })
	for i := range 10 {
		r.observe(infill.Step{Index: i})
	}
	r.close()
	if len(got) < 2 || got[0] != 0 || got[len(got)-1] != 9 || !slices.IsSorted(got) {
		t.Errorf("steps written %v: want the first (0) and the last (9), in order", got)
	}
}

// TestStepRelayNoSteps: a fill with no steps closes the relay at once.
func TestStepRelayNoSteps(t *testing.T) {
	n := 0
	r := newStepRelay(func(infill.Step) { n++ })
	r.close()
	if n != 0 {
		t.Errorf("%d steps written, want none", n)
	}
}
