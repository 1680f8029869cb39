package batch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// How --check judges the fills (Config.Check), file by file:
//
//   - A command with "{}" in it is a check of one file. It runs once per
//     file written, {} replaced by the file's path (quoted for the shell):
//     --check 'gofmt -e {} >/dev/null', --check 'python3 -m py_compile {}'.
//     A file whose check fails gets its old content back; the others keep
//     their fills.
//   - A command without "{}" checks the tree (--check 'go build ./...'). It
//     runs once with every fill in place; when it fails, every file is
//     restored and it runs again. If it fails without the fills too, it
//     cannot tell good fills from bad, and they all stay restored (markers
//     left unfilled that break the build are the usual cause: use a check
//     with {}). Otherwise the files are bisected: a group of files' fills
//     is put back and kept if the check passes, split in two and tried
//     again if it fails, down to single files, whose fills are dropped. The
//     tree ends in the last state the check passed.
//
// A file that someone edited while the check ran is left as they left it
// and reported. A hole the model did not fill keeps its marker in a file
// whose other holes were filled; it is the check that decides whether that
// file's fills stay.

// checkFills runs cfg.Check over the files written and puts back the old
// content of those whose fills it rejects; all is every file of the run.
func checkFills(ctx context.Context, cfg Config, written, all []*work, sum *Summary) {
	if len(written) == 0 {
		return
	}
	c := &checker{ctx: ctx, cfg: cfg, sum: sum}
	if strings.Contains(cfg.Check, "{}") {
		for _, f := range written {
			if !c.run(strings.ReplaceAll(cfg.Check, "{}", shellQuote(f.job.path)), 1) {
				c.takeBack(f, "--check failed on this file: its fills were taken back (restored)")
			}
		}
		return
	}
	if c.run(cfg.Check, len(written)) {
		return
	}
	for _, f := range written {
		c.takeBack(f, "")
	}
	if ctx.Err() != nil {
		c.blame(written, "the run was interrupted during --check: its fills were taken back (restored)")
		return
	}
	if !c.run(cfg.Check, 0) {
		var marked []string
		for _, f := range all {
			if f.res.Filled < f.res.Holes {
				marked = append(marked, f.job.path)
			}
		}
		why := "--check fails without dfim's fills too, so it cannot judge them: they were taken back (restored)"
		if len(marked) > 0 {
			why += fmt.Sprintf("; the markers left unfilled in %s may be why: a check with {} judges each file alone", strings.Join(marked, ", "))
		}
		c.blame(written, why)
		return
	}
	if len(written) == 1 {
		c.blame(written, "--check failed with this file's fills: they were taken back (restored)")
		return
	}
	// The fills of all fail and none pass: find the files to blame.
	half := len(written) / 2
	c.bisect(written[:half])
	c.bisect(written[half:])
}

type checker struct {
	ctx context.Context
	cfg Config
	sum *Summary
}

// run runs one check command with the fills of n files in place, and
// says on the log how it went; the output of a failing check is shown.
func (c *checker) run(cmdline string, n int) bool {
	if c.ctx.Err() != nil {
		return false
	}
	c.sum.CheckRuns++
	out, err := exec.CommandContext(c.ctx, "sh", "-c", cmdline).CombinedOutput()
	if err == nil {
		return true
	}
	with := "with no fills"
	if n > 0 {
		with = "with the fills of " + plural(n, "file", "files")
	}
	fmt.Fprintf(c.cfg.Log, "--check %q failed (%v) %s:\n%s", cmdline, err, with, tail(out, 20))
	return false
}

// bisect tries the fills of group (on top of those kept so far) and keeps
// them if the check passes; otherwise it splits the group, down to single
// files whose fills are dropped.
func (c *checker) bisect(group []*work) {
	if len(group) == 0 {
		return
	}
	var on []*work
	for _, f := range group {
		if c.putBack(f) {
			on = append(on, f)
		}
	}
	if len(on) == 0 {
		return
	}
	if c.run(c.cfg.Check, len(on)) {
		for _, f := range on {
			f.res.Changed, f.res.Restored = true, false
			f.res.Problems = dropCheckProblem(f.res.Problems)
		}
		return
	}
	for _, f := range on {
		c.takeBack(f, "")
	}
	if len(on) == 1 || c.ctx.Err() != nil {
		c.blame(on, "--check failed with this file's fills: they were taken back (restored)")
		return
	}
	half := len(on) / 2
	c.bisect(on[:half])
	c.bisect(on[half:])
}

// takeBack restores a file's old content; why, when set, is reported.
func (c *checker) takeBack(f *work, why string) {
	if !f.res.Changed {
		return
	}
	if err := restore(f.snap, f.out); err != nil {
		f.res.Problems = append(f.res.Problems, "not restored though --check rejected its fills: "+err.Error())
		f.res.Changed = false // no longer dfim's text
		c.sum.CheckFailed = true
		return
	}
	f.res.Changed, f.res.Restored = false, true
	if why != "" {
		c.blame([]*work{f}, why)
	}
}

// blame marks the files' fills as rejected by the check.
func (c *checker) blame(files []*work, why string) {
	c.sum.CheckFailed = true
	for _, f := range files {
		if f.res.Restored {
			f.res.Problems = append(dropCheckProblem(f.res.Problems), why)
		}
	}
}

// putBack writes a restored file's fills again, unless it changed since.
func (c *checker) putBack(f *work) bool {
	if f.res.Changed {
		return true
	}
	if !f.res.Restored {
		return false
	}
	cur, err := os.ReadFile(f.snap.target)
	if err != nil || sha256.Sum256(cur) != f.snap.hash {
		f.res.Problems = append(f.res.Problems, errChanged{f.snap.path}.Error())
		f.res.Restored = false
		return false
	}
	if err := f.snap.write(f.out); err != nil {
		f.res.Problems = append(f.res.Problems, fmt.Sprintf("putting its fills back for --check: %v", err))
		return false
	}
	f.res.Changed = true
	return true
}

// dropCheckProblem removes an earlier verdict of the check.
func dropCheckProblem(ps []string) []string {
	out := ps[:0]
	for _, p := range ps {
		if !strings.HasPrefix(p, "--check ") {
			out = append(out, p)
		}
	}
	return out
}

// tail is the last n lines of out.
func tail(out []byte, n int) string {
	lines := bytes.SplitAfter(bytes.TrimRight(out, "\n"), []byte("\n"))
	if len(out) == 0 {
		return ""
	}
	if len(lines) > n {
		return fmt.Sprintf("  … (%d lines before)\n%s\n", len(lines)-n, bytes.Join(lines[len(lines)-n:], nil))
	}
	return string(bytes.Join(lines, nil)) + "\n"
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
