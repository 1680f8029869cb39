package main

import (
	"strings"
	"testing"
	"unicode"
)

// TestHelpListsWholeSentences checks that the line `dfim help` prints for
// each command is a whole phrase: the listing shows a summary's first line
// only, so a summary whose second line continues the first one's sentence
// (a lowercase word or an opening bracket) would be cut mid-sentence.
func TestHelpListsWholeSentences(t *testing.T) {
	for name, c := range commands {
		first, rest, ok := strings.Cut(c.summary, "\n")
		if !ok || strings.TrimSpace(rest) == "" {
			continue
		}
		next := []rune(strings.TrimLeft(rest, "\n"))
		if unicode.IsLower(next[0]) || next[0] == '(' {
			t.Errorf("dfim help cuts %q mid-sentence: %q is continued by %q", name, first, string(next[:min(len(next), 30)]))
		}
	}
}

// TestHelpNamesNoPathOutsideTheRepository: a newcomer's checkout has no
// sibling folders, so help must not send them to one.
func TestHelpNamesNoPathOutsideTheRepository(t *testing.T) {
	var b strings.Builder
	printUsage(&b)
	for _, c := range commands {
		b.WriteString(c.summary)
	}
	if strings.Contains(b.String(), "../") {
		t.Errorf("dfim help names a path outside the repository:\n%s", b.String())
	}
}
