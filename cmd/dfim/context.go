package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"github.com/dfim/dfim/index"
	"github.com/dfim/dfim/infill"
)

func init() {
	register(&command{name: "context", common: true, run: runContext,
		usage: "[--root DIR] [--context-bytes N] [--canvas-tokens N | --whole-file] [--marker M] [--only-context] FILE:LINE:COL",
		summary: "print the canvas that a completion at a position sends to the engine\n" +
			"The workspace index of --root is built first; the output is exactly what infill sends: the\n" +
			"cross-file context, the prefix window, a hole marker and the suffix window, cut to the\n" +
			"engine's context (the built-in model's 256 tokens by default; see --engine and --model) and,\n" +
			"within it, to the latency budget of a fill the user asked for (--whole-file: no budget)."})
}

// contextFlags are the canvas flags of fill, batch and context: the
// workspace to index for cross-file context, its budget, and the canvas
// size (infill.Options.ContextTokens).
type contextFlags struct {
	root   *string
	off    *bool
	bytes  *int
	canvas *int
	whole  *bool
}

func addContextFlags(fs *flag.FlagSet) *contextFlags {
	return &contextFlags{
		root:   fs.String("root", "", "workspace to index for cross-file context (default: the nearest folder above the file with .git or go.mod, else the file's folder)"),
		off:    fs.Bool("no-context", false, "send no cross-file context (the workspace is not indexed)"),
		bytes:  fs.Int("context-bytes", infill.DefaultContextBytes, "most bytes of cross-file context"),
		canvas: fs.Int("canvas-tokens", 0, "most tokens of canvas around the hole (0: the request's latency budget, a few hundred tokens each side)"),
		whole:  fs.Bool("whole-file", false, "send as much of the file as the model's context holds, not the latency budget"),
	}
}

// check rejects a negative budget.
func (cf *contextFlags) check() error {
	if *cf.bytes < 0 {
		return usagef("--context-bytes %d: want a number of bytes from 0", *cf.bytes)
	}
	if *cf.canvas < 0 || *cf.canvas > 0 && *cf.whole {
		return usagef("--canvas-tokens %d: want a number of tokens from 0, and not with --whole-file", *cf.canvas)
	}
	return nil
}

// open indexes the workspace of path, a file or folder (--root, else
// workspaceRoot), without watching it and waits for the scan; it sets
// opts' context source and budget, and the canvas size. It returns a nil index with --no-context or a zero budget. The
// caller closes the index.
func (cf *contextFlags) open(ctx context.Context, path string, opts *infill.Options, verbose bool) (*index.Index, error) {
	opts.ContextTokens = *cf.canvas
	if *cf.whole {
		opts.ContextTokens = -1
	}
	if *cf.off || *cf.bytes == 0 {
		opts.ContextBytes = -1
		return nil, nil
	}
	root := *cf.root
	if root == "" {
		root = workspaceRoot(path)
	}
	start := time.Now()
	ix, err := index.New(root, index.Options{NoWatch: true, Workers: runtime.GOMAXPROCS(0)})
	if err != nil {
		return nil, fmt.Errorf("indexing %s for cross-file context (--no-context skips it): %w", root, err)
	}
	if err := ix.WaitReady(ctx); err != nil {
		ix.Close()
		return nil, fmt.Errorf("indexing %s: %w", root, err)
	}
	st := ix.Stats()
	if verbose {
		fmt.Fprintf(os.Stderr, "dfim: indexed %s for cross-file context: %d files, %d definitions in %v\n",
			ix.Root(), st.Files, st.Symbols, time.Since(start).Round(time.Millisecond))
	}
	if st.Limit != "" {
		fmt.Fprintf(os.Stderr, "dfim: %s\n", st.Limit)
	}
	opts.Context, opts.ContextBytes = ix, *cf.bytes
	return ix, nil
}

func runContext(fs *flag.FlagSet, common *commonFlags, args []string) error {
	cf := addContextFlags(fs)
	fs.IntVar(cf.bytes, "budget", infill.DefaultContextBytes, "the same as --context-bytes")
	marker := fs.String("marker", "<|hole|>", "text printed where the hole is")
	only := fs.Bool("only-context", false, "print only the cross-file context")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := common.resolve(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one FILE:LINE:COL, got %d arguments", fs.NArg())
	}
	if err := cf.check(); err != nil {
		return err
	}
	path, text, pos, err := readPosition(fs.Arg(0))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var opts infill.Options
	ix, err := cf.open(ctx, path, &opts, true)
	if err != nil {
		return err
	}
	if ix != nil {
		defer ix.Close()
	}
	if *only {
		out := ""
		if ix != nil {
			out = ix.Context(path, text, pos, *cf.bytes)
		}
		_, err = io.WriteString(os.Stdout, out)
		return err
	}
	// The engine sizes the windows (its tokenizer and context length).
	d, err := common.openEngine()
	if err != nil {
		return err
	}
	defer d.Close()
	c := infill.New(d)
	defer c.Close()
	out, err := c.Preview(ctx, infill.Document{Path: path, Text: text}, pos, opts, *marker)
	if err != nil {
		return err
	}
	_, err = io.WriteString(os.Stdout, out)
	return err
}

// workspaceRoot is the nearest folder at or above path's (path itself when
// it is a folder, as dfim batch's PATH may be) that holds .git or go.mod,
// else that first folder.
func workspaceRoot(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Dir(path)
	}
	dir := filepath.Dir(abs)
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		dir = abs
	}
	for d := dir; ; {
		for _, marker := range []string{".git", "go.mod"} {
			if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
				return d
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}
