package lspbench

import (
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"
)

// A Key is one keystroke: Text is inserted at the cursor, then the typist
// waits Pause before the next key.
type Key struct {
	Text  string // one character; a newline carries the next line's indentation, as editors auto-indent
	Pause time.Duration
}

// Pacing draws human pauses between keys.
type Pacing struct {
	Min, Max  time.Duration // between ordinary keys, drawn uniformly
	LineEnd   time.Duration // added after a newline, scaled by a uniform draw in [0.5, 1.5)
	Think     time.Duration // an occasional longer pause, scaled the same way
	ThinkRate float64       // chance of a thinking pause after any key
	Scale     float64       // multiplies every pause: 1 = human, 0.1 = a fast CI run, 0 = no pauses
}

// HumanPacing is a steady typist: 30–200 ms between keys, longer at line
// ends and now and then.
func HumanPacing() Pacing {
	return Pacing{Min: 30 * time.Millisecond, Max: 200 * time.Millisecond, LineEnd: 400 * time.Millisecond,
		Think: time.Second, ThinkRate: 0.03, Scale: 1}
}

// Keystrokes turns text into keys with seeded pauses: the same text, pacing
// and seed always give the same keys.
func Keystrokes(text string, p Pacing, seed uint64) []Key {
	rng := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
	var keys []Key
	for i := 0; i < len(text); {
		var k Key
		if text[i] == '\n' {
			// The newline and the indentation after it are one keystroke.
			j := i + 1
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			k.Text = text[i:j]
			i = j
		} else {
			_, size := utf8.DecodeRuneInString(text[i:])
			k.Text = text[i : i+size]
			i += size
		}
		pause := p.Min
		if p.Max > p.Min {
			pause += time.Duration(rng.Int64N(int64(p.Max - p.Min)))
		}
		if strings.HasPrefix(k.Text, "\n") {
			pause += time.Duration(float64(p.LineEnd) * (0.5 + rng.Float64()))
		}
		if rng.Float64() < p.ThinkRate {
			pause += time.Duration(float64(p.Think) * (0.5 + rng.Float64()))
		}
		k.Pause = time.Duration(float64(pause) * p.Scale)
		keys = append(keys, k)
	}
	return keys
}
