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
)

func init() {
	register(&command{name: "context", run: runContext,
		usage: "[--root DIR] [--budget BYTES] FILE:LINE:COL",
		summary: "print the canvas (with cross-file context) that would be sent for a completion at a position\n" +
			"The workspace index of --root is built first; the output is the cross-file context, the\n" +
			"prefix, a hole marker and the suffix, whole (infill cuts the prefix and suffix to the engine's context)."})
}

func runContext(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	root := fs.String("root", "", "workspace root to index (default: the nearest folder above FILE with .git or go.mod, else FILE's folder)")
	budget := fs.Int("budget", 4096, "most bytes of cross-file context")
	marker := fs.String("marker", "<|hole|>", "text printed where the hole is")
	only := fs.Bool("only-context", false, "print only the cross-file context")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one FILE:LINE:COL, got %d arguments", fs.NArg())
	}
	if *budget < 0 {
		return usagef("--budget %d: want a number of bytes from 0", *budget)
	}
	path, text, pos, err := readPosition(fs.Arg(0))
	if err != nil {
		return err
	}
	if *root == "" {
		*root = workspaceRoot(path)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	ix, err := index.New(*root, index.Options{NoWatch: true, Workers: runtime.GOMAXPROCS(0)})
	if err != nil {
		return fmt.Errorf("indexing %s: %w", *root, err)
	}
	defer ix.Close()
	if err := ix.WaitReady(ctx); err != nil {
		return fmt.Errorf("indexing %s: %w", *root, err)
	}
	st := ix.Stats()
	fmt.Fprintf(os.Stderr, "dfim context: indexed %s: %d files, %d definitions in %v\n",
		ix.Root(), st.Files, st.Symbols, time.Since(start).Round(time.Millisecond))
	if st.Limit != "" {
		fmt.Fprintf(os.Stderr, "dfim context: %s\n", st.Limit)
	}

	extra := ix.Context(path, text, pos, *budget)
	out := extra
	if !*only {
		out += text[:pos] + *marker + text[pos:]
	}
	_, err = io.WriteString(os.Stdout, out)
	return err
}

// workspaceRoot is the nearest folder at or above file's that holds .git or
// go.mod, else file's own folder.
func workspaceRoot(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		return filepath.Dir(file)
	}
	dir := filepath.Dir(abs)
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
