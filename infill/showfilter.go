package infill

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// The show/hide filter: whether a suggestion is worth showing unasked,
// from a logistic regression over what the pipeline knows of it (its
// least sure token, its length and shape, the cursor's place, whether it
// repeats a line of the document, the language). A threshold on the
// confidence alone cannot tell a right copy from a wrong one (both are
// sure); these features can, a little. The weights are fitted offline by
// showfilter/train.py on tasks from the training corpus, never from the
// dev or held-out folders, and embedded here as data.

//go:embed showfilter/weights.json
var showWeightsJSON []byte

// DefaultShowThreshold is the filter's score a suggestion needs to be
// shown unasked where Options.ShowThreshold asks for the filter: chosen
// on ../shared/eval/dev.jsonl with the built-in model as the threshold of
// best precision that still shows at least 10% of tasks (README of
// showfilter/: shown 15.5%, precision 0.18, against 35% and 0.11 for
// DefaultMinConfidence alone).
const DefaultShowThreshold = 0.12

// showFeatureNames are the features in weights.json's order.
var showFeatureNames = []string{"bias", "confidence", "log_chars", "multi_line", "blank_line", "mid_line", "copies_a_line", "python"}

var showWeights = func() []float64 {
	var w struct {
		Names   []string  `json:"names"`
		Weights []float64 `json:"weights"`
	}
	if err := json.Unmarshal(showWeightsJSON, &w); err != nil || fmt.Sprint(w.Names) != fmt.Sprint(showFeatureNames) || len(w.Weights) != len(w.Names) {
		panic(fmt.Sprintf("infill: showfilter/weights.json does not match showFeatureNames %v (%v); refit with showfilter/train.py", showFeatureNames, err))
	}
	return w.Weights
}()

// showFeatures computes the filter's features of text filling [start,
// end) of doc with confidence conf, as showfilter/train.py does.
func showFeatures(lang, doc string, start, end int, text string, conf float64) []float64 {
	prefix, suffix := doc[:start], doc[end:]
	s := strings.TrimSpace(text)
	ls := prefix[strings.LastIndexByte(prefix, '\n')+1:]
	rest, _, _ := strings.Cut(suffix, "\n")
	blank := strings.TrimSpace(ls) == "" && strings.TrimSpace(rest) == ""
	mid := strings.TrimSpace(rest) != ""
	near := prefix[max(0, len(prefix)-3000):] + "\n" + suffix[:min(len(suffix), 1500)]
	first, _, _ := strings.Cut(s, "\n")
	first = strings.TrimSpace(first)
	copies := false
	if len(first) >= 4 {
		for l := range strings.Lines(near) {
			if strings.TrimSpace(l) == first {
				copies = true
				break
			}
		}
	}
	return []float64{1, conf, math.Log1p(float64(utf8.RuneCountInString(s))), b2f(strings.Contains(s, "\n")),
		b2f(blank), b2f(mid), b2f(copies), b2f(lang == "python")}
}

// showScore is the filter's probability that the suggestion is right.
func showScore(features []float64) float64 {
	z := 0.0
	for i, f := range features {
		z += showWeights[i] * f
	}
	return 1 / (1 + math.Exp(-z))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// describeShow says what the filter saw and decided, for --explain.
func describeShow(features []float64, score, threshold float64) string {
	var b strings.Builder
	for i, f := range features[1:] {
		fmt.Fprintf(&b, "%s=%.2f ", showFeatureNames[i+1], f)
	}
	verdict := "shown"
	if score < threshold {
		verdict = "hidden"
	}
	fmt.Fprintf(&b, "→ score %.3f, threshold %.3f: %s", score, threshold, verdict)
	return b.String()
}
