package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/infill/syntax"
)

func init() {
	register(&command{name: "fill", common: true, run: runFill,
		usage: "[--json] [--watch] [--explain] FILE:LINE:COL",
		summary: "fill at a position (line and column 1-based, the column in characters) and print the text\n" +
			"--json prints {\"text\", \"candidates\", \"steps\", \"latency_ms\", \"tokens\", \"context_bytes\"}; --watch draws the denoising steps;\n" +
			"the workspace (--root) is indexed first for cross-file context (--no-context skips it)"})
}

// fillJSON is `dfim fill --json`'s output (DESIGN.md's contract).
type fillJSON struct {
	Text       string   `json:"text"`
	Candidates []string `json:"candidates"`
	Steps      int      `json:"steps"`
	LatencyMS  float64  `json:"latency_ms"`
	Tokens     int      `json:"tokens"`
	// ContextBytes is how much cross-file context the canvas carried.
	ContextBytes int `json:"context_bytes"`
}

func runFill(fs *flag.FlagSet, common *commonFlags, args []string) error {
	asJSON := fs.Bool("json", false, "print JSON: {\"text\", \"candidates\", \"steps\", \"latency_ms\", \"tokens\", \"context_bytes\"}")
	watch := fs.Bool("watch", false, "draw the denoising steps while they run (when stdout is a terminal)")
	lang := fs.String("lang", "", "language of the file (LSP languageId, e.g. go, python); default: from its extension")
	shape := fs.String("shape", "auto", "span to fill: auto, line or block")
	maxTokens := fs.Int("max-tokens", 0, "most tokens to fill (0: planned from the cursor)")
	candidates := fs.Int("candidates", 1, "candidates to ask the engine for")
	repair := fs.Int("repair", 2, "syntax repair rounds (0: off)")
	seed := fs.Uint64("seed", 0, "random seed")
	cf := addContextFlags(fs)
	explain := fs.Bool("explain", false, "say on stderr what the engine returned and why candidates were dropped (also with --log-level debug)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	settings, err := common.resolve(fs)
	if err != nil {
		return err
	}
	if !flagGiven(fs, "max-tokens") {
		*maxTokens = settings.MaxTokens
	}
	if *maxTokens < 0 || *candidates < 0 {
		return usagef("--max-tokens and --candidates take numbers from 0 (0: the default)")
	}
	if err := cf.check(); err != nil {
		return err
	}
	*explain = *explain || common.logLevel == "debug"
	if fs.NArg() != 1 {
		return usagef("want one FILE:LINE:COL, got %d arguments", fs.NArg())
	}
	switch *shape {
	case "auto", "line", "block":
	default:
		return usagef("unknown --shape %q; use auto, line or block", *shape)
	}
	path, text, pos, err := readPosition(fs.Arg(0))
	if err != nil {
		return err
	}
	if syntax.Detect(*lang, path) == "" {
		if *lang != "" {
			return usagef("unknown language %q for %s; use an LSP languageId such as go, python, typescript", *lang, path)
		}
		return usagef("unknown language of %s (no known extension); pass --lang, e.g. --lang go", path)
	}

	d, err := common.openEngine()
	if err != nil {
		return err
	}
	defer d.Close()
	var rec *recorder
	if *explain {
		rec = &recorder{}
		d = rec.wrap(d)
	}
	rounds := *repair
	if rounds <= 0 {
		rounds = -1
	}
	opts := infill.Options{Shape: *shape, MaxTokens: *maxTokens, Steps: common.steps,
		Algorithm: engine.Algorithm(common.algorithm), Candidates: *candidates, RepairRounds: rounds, Seed: *seed, ReadPackage: true}
	var drawer *stepDrawer
	if *watch && isTerminal(os.Stdout) {
		drawer = &stepDrawer{out: os.Stdout}
		opts.Observe = drawer.draw
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ix, err := cf.open(ctx, path, &opts, *explain)
	if err != nil {
		return err
	}
	if ix != nil {
		defer ix.Close()
	}
	c := infill.New(d)
	defer c.Close()
	if limit := c.HoleTokenLimit(opts); opts.MaxTokens > limit {
		fmt.Fprintf(fs.Output(), "dfim fill: --max-tokens %d capped to %d, what the model's context holds besides the text around the hole\n", opts.MaxTokens, limit)
		opts.MaxTokens = limit
	}
	before := c.Stats()
	start := time.Now()
	sugs, err := c.Complete(ctx, infill.Document{Path: path, LanguageID: *lang, Text: text}, pos, opts)
	if drawer != nil {
		drawer.clear() // only the result stays on the screen
	}
	if rec != nil {
		rec.explain(os.Stderr, statsDelta(before, c.Stats()), sugs)
	}
	if err != nil {
		return err
	}
	if common.engine == "native" && common.model == "" {
		// On stderr, so scripts reading stdout see the same output.
		fmt.Fprintln(os.Stderr, builtinHint())
	}
	out := fillJSON{Candidates: []string{}, LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	for i, s := range sugs {
		if i == 0 {
			out.Text, out.Steps, out.Tokens, out.ContextBytes = s.Text, s.Steps, s.Tokens, s.ContextBytes
		}
		out.Candidates = append(out.Candidates, s.Text)
	}
	// With --json the object is printed either way (its latency and
	// empty candidates say what happened); the exit status is plain mode's.
	if *asJSON {
		if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
			return err
		}
	}
	if len(sugs) == 0 {
		hint := "; --explain says why"
		if *explain {
			hint = ""
		}
		return fmt.Errorf("no suggestion worth showing: every candidate was empty, broke the syntax or would not compile here; try --shape, --max-tokens or --candidates%s", hint)
	}
	if *asJSON {
		return nil
	}
	_, err = io.WriteString(os.Stdout, out.Text+"\n")
	return err
}

// flagGiven reports whether the flag called name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// parsePosition splits FILE:LINE:COL (the file name may hold colons).
func parsePosition(arg string) (path string, line, col int, err error) {
	i := strings.LastIndexByte(arg, ':')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(arg[:i], ':')
	}
	if j <= 0 {
		return "", 0, 0, usagef("position %q is not FILE:LINE:COL", arg)
	}
	line, err1 := strconv.Atoi(arg[j+1 : i])
	col, err2 := strconv.Atoi(arg[i+1:])
	if err1 != nil || err2 != nil || line < 1 || col < 1 {
		return "", 0, 0, usagef("position %q: LINE and COL must be numbers from 1", arg)
	}
	return arg[:j], line, col, nil
}

// byteOffset converts a 1-based line and a 1-based column in characters
// (runes) to a byte offset; the column may be one past the line's end.
func byteOffset(text string, line, col int) (int, error) {
	off := 0
	for l := 1; l < line; l++ {
		_, next := lineBreak(text, off)
		if next < 0 {
			return 0, fmt.Errorf("line %d is past the end of the file (%d lines)", line, l)
		}
		off = next
	}
	end, _ := lineBreak(text, off)
	n := utf8.RuneCountInString(text[off:end])
	if col > n+1 {
		return 0, fmt.Errorf("column %d is past the end of line %d (%d characters)", col, line, n)
	}
	for range col - 1 {
		_, size := utf8.DecodeRuneInString(text[off:])
		off += size
	}
	return off, nil
}

// lineBreak finds the end of the line that starts at off: where its text
// ends and where the next line starts (-1 on the last line). "\r\n",
// "\n" and a lone "\r" (old Mac files) all end a line, as editors count.
func lineBreak(text string, off int) (end, next int) {
	i := strings.IndexAny(text[off:], "\r\n")
	if i < 0 {
		return len(text), -1
	}
	end = off + i
	if text[end] == '\r' && end+1 < len(text) && text[end+1] == '\n' {
		return end, end + 2
	}
	return end, end + 1
}

// maxSourceBytes bounds the file fill and context read: far more than any
// source file, far less than a device such as /dev/zero would pour in.
const maxSourceBytes = 16 << 20

// readPosition reads the file a FILE:LINE:COL argument names and returns
// its text and the cursor's byte offset. A binary file or a position outside
// the file is a usage error, and so is a file that is not a regular one of
// at most maxSourceBytes (it is not read).
func readPosition(arg string) (path, text string, pos int, err error) {
	path, line, col, err := parsePosition(arg)
	if err != nil {
		return "", "", 0, err
	}
	data, err := readSmallFile(path, maxSourceBytes)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // missing, unreadable: the work failed
			return "", "", 0, fmt.Errorf("reading %s: %w", path, err)
		}
		// A device, FIFO, folder or huge file named by mistake.
		return "", "", 0, usagef("%v; give a source file (a regular file of at most %d MiB)", err, maxSourceBytes>>20)
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return "", "", 0, usagef("%s is a binary file (not UTF-8 text); dfim completes source code", path)
	}
	text = string(data)
	pos, err = byteOffset(text, line, col)
	if err != nil {
		return "", "", 0, usagef("%s: %v", path, err)
	}
	return path, text, pos, nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// stepDrawer redraws the hole's text in place after every denoising step.
// A line longer than the terminal is wide wraps onto several rows, so the
// cursor goes back over the rows the last frame took at the terminal's
// width, not over its line breaks (a wrapped mask line used to leave the
// rows above it on the screen, one stale step per wrap); a frame taller
// than the terminal is cut to fit, since the cursor cannot go back above
// the top of the screen.
type stepDrawer struct {
	out  io.Writer
	size func() (cols, rows int) // the terminal's size; nil: terminalSize of out
	last []string                // lines of the frame on the screen
}

func (w *stepDrawer) termSize() (int, int) {
	if w.size != nil {
		return w.size()
	}
	return terminalSize(w.out)
}

func (w *stepDrawer) draw(st infill.Step) {
	cols, rows := w.termSize()
	var b strings.Builder
	w.back(&b, cols)
	text := ""
	if len(st.Holes) > 0 {
		text = st.Holes[0]
	}
	lines := append([]string{fmt.Sprintf("\x1b[2mstep %d (candidate %d)\x1b[0m", st.Index+1, st.Candidate+1)}, strings.Split(text, "\n")...)
	w.last = fitRows(lines, cols, rows-1)
	for _, l := range w.last {
		b.WriteString(l)
		b.WriteString("\n")
	}
	io.WriteString(w.out, b.String())
}

// back moves the cursor up to the first row of the last frame and clears
// from there down.
func (w *stepDrawer) back(b *strings.Builder, cols int) {
	if n := screenRows(w.last, cols); n > 0 {
		fmt.Fprintf(b, "\x1b[%dF\x1b[J", n)
	}
	w.last = nil
}

// clear removes the last drawing so only the result stays.
func (w *stepDrawer) clear() {
	cols, _ := w.termSize()
	var b strings.Builder
	w.back(&b, cols)
	io.WriteString(w.out, b.String())
}

// screenRows is how many terminal rows lines take at cols columns, each
// line ended by a line break.
func screenRows(lines []string, cols int) int {
	n := 0
	for _, l := range lines {
		rows, _ := layout(l, cols, 0)
		n += rows
	}
	return n
}

// layout lays line out as a terminal cols wide does: a character that
// does not fit on the row wraps to the next, a tab stops at the right
// margin (it never wraps), escape sequences take no room. It returns the
// rows the line takes and, when maxRows > 0, how many bytes of it fit in
// maxRows rows.
func layout(line string, cols, maxRows int) (rows, fit int) {
	rows, c := 1, 0 // c: the next column; cols: at the margin, the next character wraps
	fit = len(line)
	for i := 0; i < len(line); {
		if line[i] == 0x1b && i+1 < len(line) && line[i+1] == '[' { // CSI ... final byte
			j := i + 2
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
				j++
			}
			i = j + 1
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		if r == '\t' {
			if cols > 0 {
				c = min((c/8+1)*8, cols-1)
			}
			i += size
			continue
		}
		w := runeWidth(r)
		if cols > 0 && w > 0 && c+w > cols {
			if rows == maxRows && fit == len(line) {
				fit = i
			}
			rows++
			c = 0
		}
		c += w
		i += size
	}
	return rows, fit
}

// fitRows cuts lines to at most maxRows terminal rows: whole lines while
// they fit, then the start of the next, and "…" when something was cut.
func fitRows(lines []string, cols, maxRows int) []string {
	if maxRows < 2 || screenRows(lines, cols) <= maxRows {
		return lines
	}
	var out []string
	used := 0
	for _, l := range lines {
		r, _ := layout(l, cols, 0)
		if used+r > maxRows-1 { // keep a row for the ellipsis
			if left := maxRows - 1 - used; left > 0 {
				_, fit := layout(l, cols, left)
				out = append(out, l[:fit])
			}
			break
		}
		out = append(out, l)
		used += r
	}
	return append(out, "…")
}

// runeWidth is how many columns a terminal gives r: wide (East Asian,
// emoji) characters two, control characters and combining marks none.
func runeWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7f || r == 0x200b || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		return 0
	case wideRune(r):
		return 2
	}
	return 1
}

// wideRune reports the characters terminals draw two columns wide.
func wideRune(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f, r >= 0xac00 && r <= 0xd7a3,
		r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f, r >= 0xff00 && r <= 0xff60,
		r >= 0xffe0 && r <= 0xffe6, r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x20000 && r <= 0x3fffd:
		return true
	}
	return false
}

// terminalSize is the size of the terminal w writes to: from the terminal
// itself, else $COLUMNS and $LINES, else 80 by 24.
func terminalSize(w io.Writer) (cols, rows int) {
	if f, ok := w.(*os.File); ok {
		if c, r, ok := ttySize(f); ok {
			return c, r
		}
	}
	cols, rows = 80, 24
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		cols = n
	}
	if n, err := strconv.Atoi(os.Getenv("LINES")); err == nil && n > 0 {
		rows = n
	}
	return cols, rows
}
