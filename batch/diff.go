package batch

import (
	"fmt"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
)

// unifiedDiff is a unified diff of old to new with three lines of context.
// go-udiff finds the hunks, but its headers' new-file line numbers miss the
// unchanged lines between two edits of one hunk (and a hunk of no lines on
// one side is misnumbered), so the headers are written here: a hunk starts
// in the new file where it starts in the old one, shifted by the lines the
// hunks before it added or removed.
func unifiedDiff(fromName, toName, old, new string) string {
	if old == new {
		return ""
	}
	u, err := udiff.ToUnifiedDiff(fromName, toName, old, udiff.Lines(old, new), udiff.DefaultContextLines)
	if err != nil || len(u.Hunks) == 0 {
		return udiff.Unified(fromName, toName, old, new)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", u.From, u.To)
	shift := 0
	for _, h := range u.Hunks {
		from, to := 0, 0
		for _, l := range h.Lines {
			switch l.Kind {
			case udiff.Delete:
				from++
			case udiff.Insert:
				to++
			default:
				from++
				to++
			}
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(h.FromLine, from), hunkRange(h.FromLine+shift, to))
		shift += to - from
		for _, l := range h.Lines {
			switch l.Kind {
			case udiff.Delete:
				b.WriteByte('-')
			case udiff.Insert:
				b.WriteByte('+')
			default:
				b.WriteByte(' ')
			}
			b.WriteString(l.Content)
			if !strings.HasSuffix(l.Content, "\n") {
				b.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	return b.String()
}

// hunkRange is one side of a hunk header, as GNU diff writes it: the count
// is left out when it is 1, and a side of no lines names the line before.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
