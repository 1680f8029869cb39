package infill

import (
	"context"
	"math"
	"testing"

	"github.com/dfim/dfim/engine"
)

// TestShowFeaturesMatchTraining: the features and score agree with
// showfilter/train.py's on the same input (its output pasted here).
func TestShowFeaturesMatchTraining(t *testing.T) {
	for _, tc := range []struct {
		lang, prefix, suffix, text string
		conf                       float64
		want                       []float64
		score                      float64
	}{
		{"go", "func f() {\n\tx := 1\n\t", "\n\treturn x\n}\n", "x := 1", 0.9,
			[]float64{1, 0.9, 1.9459101490553132, 0, 1, 0, 1, 0}, 0.29204666917101335},
		{"python", "def f():\n    return g(", "):\n", "a, b", 0.5,
			[]float64{1, 0.5, 1.6094379124341003, 0, 0, 1, 0, 1}, 0.048749147894054656},
	} {
		doc := tc.prefix + tc.suffix
		got := showFeatures(tc.lang, doc, len(tc.prefix), len(tc.prefix), tc.text, tc.conf)
		for i := range tc.want {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("%q: feature %s = %v, want %v", tc.text, showFeatureNames[i], got[i], tc.want[i])
			}
		}
		if s := showScore(got); math.Abs(s-tc.score) > 1e-6 {
			t.Errorf("%q: score %v, want %v", tc.text, s, tc.score)
		}
	}
}

// TestShowThresholdHides: with ShowThreshold set, a suggestion the filter
// scores below it is not shown; without, it is.
func TestShowThresholdHides(t *testing.T) {
	doc, pos := at("package a\n\nfunc f(x int) int {\n\tif x > 0 {\n\t\t|\n\t}\n\treturn x\n}\n")
	long := "x = x*x*x + 3*x*x - 7*x + 11 // a long sum no one asked for"
	for _, tc := range []struct {
		threshold float64
		want      int
	}{{0, 1}, {DefaultShowThreshold, 0}} {
		c := New(&scripted{calls: [][]engine.Fill{{fill(long)}}})
		sugs, err := c.Complete(context.Background(), Document{Path: "a.go", Text: doc}, pos, Options{ShowThreshold: tc.threshold, MinConfidence: 0.01, RepairRounds: -1})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(sugs) != tc.want {
			t.Errorf("threshold %v: %d suggestions, want %d (stats %+v)", tc.threshold, len(sugs), tc.want, c.Stats())
		}
	}
}
