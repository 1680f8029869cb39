// Command dfim is a code-completion daemon driven by a diffusion language
// model. See `dfim --help` and ../../README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes of the command-line contract.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// A command is one subcommand. Each lives in its own file and registers itself.
type command struct {
	name    string // e.g. "serve", "model info"
	summary string
	usage   string // argument synopsis after the name
	// run parses args with fs (already holding the common flags when
	// common is set) and does the work.
	run    func(fs *flag.FlagSet, common *commonFlags, args []string) error
	common bool // takes the common flags
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("dfim: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError marks an error as a usage error (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// stdinIsTerminal reports whether a person, not an editor, is on stdin;
// tests replace it.
var stdinIsTerminal = func() bool { return isTerminal(os.Stdin) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		if stdinIsTerminal() {
			// Someone trying dfim out: show what it does.
			printUsage(stdout)
			return exitOK
		}
		// An editor or script that runs a bare `dfim` on a pipe gets the
		// default command, the language server.
		args = []string{"serve"}
	}
	if args[0] == "help" && len(args) > 1 { // dfim help fill: dfim fill --help
		args = append(args[1:], "--help")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return exitOK
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	cmd, rest, msg := lookup(args)
	if cmd == nil {
		fmt.Fprintf(stderr, "dfim: %s\n", msg)
		fmt.Fprintln(stderr, "usage: dfim COMMAND [flags] [args] (dfim --help lists the commands)")
		return exitUsage
	}
	fs := flag.NewFlagSet("dfim "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common *commonFlags
	if cmd.common {
		common = addCommonFlags(fs)
	}
	// --help asked for it: the whole help goes to stdout. A flag error
	// prints one usage line instead (parseFlags).
	fs.Usage = func() {
		fs.SetOutput(stdout)
		defer fs.SetOutput(stderr)
		fmt.Fprintf(stdout, "usage: dfim %s %s\n\n%s\n\nflags:\n", cmd.name, cmd.usage, cmd.summary)
		fs.PrintDefaults()
	}
	err := cmd.run(fs, common, rest)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "dfim %s: %s\n", cmd.name, ue.msg)
		fmt.Fprintf(stderr, "usage: dfim %s %s (dfim %s --help for flags)\n", cmd.name, cmd.usage, cmd.name)
		return exitUsage
	default:
		var ee exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintf(stderr, "dfim %s: %s\n", cmd.name, ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "dfim %s: %v\n", cmd.name, err)
		return exitFailed
	}
}

// exitError ends a command with a given code and an optional message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// lookup finds the command args name; subcommands may be two words
// ("model info", "eval gen"), and the longest match wins. It returns the
// command and its arguments, or nil and a message saying what is wrong,
// with the nearest command when one is close.
func lookup(args []string) (cmd *command, rest []string, msg string) {
	if len(args) > 1 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c, args[2:], ""
		}
	}
	if c, ok := commands[args[0]]; ok {
		return c, args[1:], ""
	}
	if strings.HasPrefix(args[0], "-") {
		return nil, nil, fmt.Sprintf("flag %s before a command; flags go after it, e.g. dfim fill %s ...", args[0], args[0])
	}
	// A group such as "model" or "bench": list its subcommands.
	var subs []string
	for name := range commands {
		if group, sub, ok := strings.Cut(name, " "); ok && group == args[0] {
			subs = append(subs, sub)
		}
	}
	if len(subs) > 0 {
		sort.Strings(subs)
		if len(args) == 1 {
			return nil, nil, fmt.Sprintf("%q needs a subcommand: %s", args[0], strings.Join(subs, ", "))
		}
		m := fmt.Sprintf("unknown command %q", args[0]+" "+args[1])
		if near := nearest(args[1], subs); near != "" {
			return nil, nil, m + fmt.Sprintf("; did you mean %q?", args[0]+" "+near)
		}
		return nil, nil, m + "; " + args[0] + " takes " + strings.Join(subs, ", ")
	}
	var names []string
	for name := range commands {
		names = append(names, strings.SplitN(name, " ", 2)[0])
	}
	m := fmt.Sprintf("unknown command %q", args[0])
	if near := nearest(args[0], names); near != "" {
		m += fmt.Sprintf("; did you mean %q?", near)
	}
	return nil, nil, m
}

// nearest returns the candidate closest to word by edit distance when it
// is close enough to be a typo (at most 2 edits, and fewer than the word's
// length), or "".
func nearest(word string, candidates []string) string {
	best, bestDist := "", 3
	sort.Strings(candidates) // ties: the first in order
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), c)
		if d < bestDist && d < len(word) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseFlags parses args with fs. --help prints the command's help (and
// returns flag.ErrHelp); a flag error is a usage error with the flag
// package's message, and the nearest flag when the name was a typo: run
// prints it with one usage line, not the whole help.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		usage()
		return err
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var flags []string
		fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f.Name) })
		if near := nearest(strings.TrimPrefix(name, "-"), flags); near != "" {
			msg += fmt.Sprintf("; did you mean --%s?", near)
		}
	}
	return usageError{msg}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "dfim: code completion from a diffusion language model\n\nusage: dfim COMMAND [flags] [args]\n\ncommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %-14s %s\n", n, strings.SplitN(c.summary, "\n", 2)[0])
	}
	fmt.Fprintln(w, "\nRun `dfim COMMAND --help` for a command's flags. Editors start `dfim serve` (LSP on stdio;\n"+
		"a bare `dfim` whose stdin is not a terminal serves too); try a completion with `dfim fill FILE:LINE:COL`.")
}
