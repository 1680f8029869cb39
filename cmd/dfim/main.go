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

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		return exitOK
	}
	// Subcommands may be two words ("model info", "eval gen"): prefer the longest.
	var cmd *command
	var rest []string
	if len(args) > 1 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			cmd, rest = c, args[2:]
		}
	}
	if cmd == nil {
		c, ok := commands[args[0]]
		if !ok {
			fmt.Fprintf(stderr, "dfim: unknown command %q\n\n", args[0])
			printUsage(stderr)
			return exitUsage
		}
		cmd, rest = c, args[1:]
	}
	fs := flag.NewFlagSet("dfim "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common *commonFlags
	if cmd.common {
		common = addCommonFlags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dfim %s %s\n\n%s\n\nflags:\n", cmd.name, cmd.usage, cmd.summary)
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

// parseFlags parses args with fs, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{code: exitUsage}
	}
	return nil
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
	fmt.Fprintln(w, "\nRun `dfim COMMAND --help` for a command's flags.")
}
