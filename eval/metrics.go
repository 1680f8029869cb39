package eval

import (
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Levenshtein is the edit distance between a and b counted in runes
// (insertions, deletions and substitutions all cost 1).
func Levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	// One row of the dynamic-programming table, over the shorter string.
	row := make([]int, len(rb)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		diag := row[0] // table[i-1][j-1]
		row[0] = i
		for j := 1; j <= len(rb); j++ {
			up := row[j] // table[i-1][j]
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			row[j] = min(up+1, row[j-1]+1, diag+cost)
			diag = up
		}
	}
	return row[len(rb)]
}

// ExactMatch reports whether the suggestion equals the middle once the
// whitespace around both is trimmed.
func ExactMatch(suggestion, middle string) bool {
	return strings.TrimSpace(suggestion) == strings.TrimSpace(middle)
}

// EditSimilarity is 1 − Levenshtein / longer length, in runes, of the
// suggestion and the middle with surrounding whitespace trimmed (so a
// missing final newline costs nothing, as in ExactMatch). Two empty strings
// are identical (1).
func EditSimilarity(suggestion, middle string) float64 {
	a, b := strings.TrimSpace(suggestion), strings.TrimSpace(middle)
	longer := max(utf8.RuneCountInString(a), utf8.RuneCountInString(b))
	if longer == 0 {
		return 1
	}
	return 1 - float64(Levenshtein(a, b))/float64(longer)
}

// RepeatsSuffix reports whether text ends by repeating the start of suffix:
// its tail (whitespace runs compared as one space) equals the suffix's head
// for at least the suffix's whole first non-blank line. This is the typical
// fill-in-the-middle failure of writing the closing `}` or the next line
// that the editor already has after the cursor.
func RepeatsSuffix(text, suffix string) bool {
	head := strings.TrimLeftFunc(suffix, unicode.IsSpace)
	firstLine, _, _ := strings.Cut(head, "\n")
	minLen := len(collapseSpace(strings.TrimRightFunc(firstLine, unicode.IsSpace)))
	if minLen == 0 {
		return false
	}
	tail := collapseSpace(strings.TrimRightFunc(text, unicode.IsSpace))
	h := collapseSpace(head)
	for k := min(len(h), len(tail)); k >= minLen; k-- {
		if strings.HasSuffix(tail, h[:k]) {
			return true
		}
	}
	return false
}

// SuffixDuplication reports whether a suggestion repeats the start of the
// suffix where the true middle does not (a middle that legitimately ends like
// the suffix begins, say `)` before `)`, is not held against the suggestion).
func SuffixDuplication(suggestion, middle, suffix string) bool {
	return RepeatsSuffix(suggestion, suffix) && !RepeatsSuffix(middle, suffix)
}

// collapseSpace replaces every run of white space with one space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// AcceptedChars is the share of the expected text (the middle, its
// leading whitespace aside) that a user accepting the suggestion word by
// word would take before its first wrong character: Copilot's "accepted
// and retained characters". A word is a run of letters, digits and
// underscores or one other character, with the white space before it; the
// user takes words while what they took is still a start of the middle.
// 0 for an empty suggestion or middle.
func AcceptedChars(suggestion, middle string) float64 {
	taken, total := AcceptedCharCount(suggestion, middle)
	if total == 0 {
		return 0
	}
	return min(float64(taken)/float64(total), 1)
}

// AcceptedCharCount is AcceptedChars as counts: the characters (runes) of
// the suggestion a user accepting it word by word would take, and the
// characters of the middle (its white space around aside). The LSP
// benchmark counts them per keystroke, with what the user goes on to type
// as the middle.
func AcceptedCharCount(suggestion, middle string) (taken, total int) {
	s := strings.TrimLeftFunc(suggestion, unicode.IsSpace)
	m := strings.TrimLeftFunc(middle, unicode.IsSpace)
	total = utf8.RuneCountInString(strings.TrimRightFunc(m, unicode.IsSpace))
	if total == 0 || s == "" {
		return 0, total
	}
	end := 0 // bytes of s accepted
	for end < len(s) {
		next := nextWord(s, end)
		if !strings.HasPrefix(m, s[:next]) {
			break
		}
		end = next
	}
	return utf8.RuneCountInString(strings.TrimRightFunc(s[:end], unicode.IsSpace)), total
}

// nextWord is the end of the word of s that starts at i: its leading white
// space, then a run of word characters or one other character.
func nextWord(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	start := i
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if i == start {
				i += n // one other character
			}
			break
		}
		i += n
	}
	return i
}

// MultiLineWhereSingle reports whether a suggestion spans several lines
// where the expected text is one line.
func MultiLineWhereSingle(suggestion, middle string) bool {
	return strings.Contains(strings.TrimSpace(suggestion), "\n") && !strings.Contains(strings.TrimSpace(middle), "\n")
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs, 0 for
// none. The LSP benchmark uses it too, so both report latency the same way.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
