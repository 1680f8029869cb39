package eval

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path"
	"strconv"
	"strings"
)

// Next-edit tasks from a repository's history: for each commit that
// changes a Go or Python file in two or more places (hunks of `git diff
// -U0`), the file before the commit, the first hunk applied as the user's
// edit, and the other hunks as the edits expected next.

// A NESTask is one next-edit task.
type NESTask struct {
	ID     string `json:"id"`
	Repo   string `json:"repo,omitempty"`
	Commit string `json:"commit"`
	Path   string `json:"path"`
	Lang   string `json:"lang"`
	// Before is the file before the commit; Edit is the user's edit of
	// it (the commit's first hunk in the file).
	Before string  `json:"before"`
	Edit   NESEdit `json:"edit"`
	// Expected are the commit's other hunks in the file, as edits of the
	// text after the user's edit (Text), in order.
	Expected []NESHunk `json:"expected"`
}

// A NESEdit is the user's edit: bytes [Start, Start+len(Old)) of Before,
// Old, become New.
type NESEdit struct {
	Start int    `json:"start"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// A NESHunk is an expected edit: bytes [Start, End) become Text.
type NESHunk struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
}

// Text is the document after the user's edit: where next edits are asked.
func (t NESTask) Text() string {
	return t.Before[:t.Edit.Start] + t.Edit.New + t.Before[t.Edit.Start+len(t.Edit.Old):]
}

// Cursor is where the user's edit left the cursor: the end of its new
// text, before a final newline.
func (t NESTask) Cursor() int {
	return t.Edit.Start + len(strings.TrimSuffix(t.Edit.New, "\n"))
}

// NESGenConfig configures GenerateNES.
type NESGenConfig struct {
	Repo string // a git repository (work tree or bare)
	Lang string // "go", "python" or "" for both
	N    int    // most tasks
	// MaxCommits bounds how far back the history is walked (0: 2,000).
	MaxCommits int
	// PerCommit caps the tasks of one commit (0: 2), for variety.
	PerCommit int
}

// Limits of the files and commits a task is made from.
const (
	nesMaxFileBytes = 64 << 10
	nesMaxHunks     = 16
)

// GenerateNES walks the history of cfg.Repo, newest commit first, and
// makes up to cfg.N tasks.
func GenerateNES(ctx context.Context, cfg NESGenConfig) ([]NESTask, error) {
	maxCommits, perCommit := cfg.MaxCommits, cfg.PerCommit
	if maxCommits <= 0 {
		maxCommits = 2000
	}
	if perCommit <= 0 {
		perCommit = 2
	}
	log, err := git(ctx, cfg.Repo, "log", "--no-merges", "--format=%H %P", "-n", strconv.Itoa(maxCommits))
	if err != nil {
		return nil, err
	}
	var tasks []NESTask
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 { // the root commit, or a merge
			continue
		}
		commit, parent := f[0], f[1]
		diff, err := git(ctx, cfg.Repo, "diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", parent, commit, "--", "*.go", "*.py")
		if err != nil {
			return nil, err
		}
		n := 0
		for _, fd := range parseDiff(diff) {
			lang := langOfPath(fd.path)
			if lang == "" || cfg.Lang != "" && lang != cfg.Lang || len(fd.hunks) < 2 || len(fd.hunks) > nesMaxHunks || n >= perCommit {
				continue
			}
			before, err := git(ctx, cfg.Repo, "show", parent+":"+fd.path)
			if err != nil || len(before) > nesMaxFileBytes || !strings.HasSuffix(before, "\n") {
				continue
			}
			t, ok := nesTask(before, fd.hunks)
			if !ok {
				continue
			}
			t.ID = fmt.Sprintf("%s:%s", commit[:12], fd.path)
			t.Repo, t.Commit, t.Path, t.Lang = path.Base(strings.TrimSuffix(cfg.Repo, "/")), commit, fd.path, lang
			tasks = append(tasks, t)
			n++
			if len(tasks) >= cfg.N {
				return tasks, nil
			}
		}
	}
	return tasks, nil
}

func langOfPath(p string) string {
	switch {
	case strings.HasSuffix(p, ".go"):
		return "go"
	case strings.HasSuffix(p, ".py"):
		return "python"
	}
	return ""
}

// git runs git in repo and returns its output.
func git(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), repo, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// A diffHunk is one hunk of a -U0 diff: lines [old, old+oldN) of the old
// file (0-based; with oldN 0, the insertion goes before line old) become
// the added lines.
type diffHunk struct {
	old, oldN int
	added     []string // with their newlines
	partial   bool     // a "\ No newline at end of file" touches it
}

type fileDiff struct {
	path  string
	hunks []diffHunk
	added bool // a new or deleted file: no task
}

// parseDiff reads the files and hunks of a `git diff -U0`; new and
// deleted files are left out.
func parseDiff(diff string) []fileDiff {
	var out []fileDiff
	var cur *fileDiff
	sc := bufio.NewScanner(strings.NewReader(diff))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "diff --git "):
			out = append(out, fileDiff{})
			cur = &out[len(out)-1]
		case cur == nil:
		case len(cur.hunks) == 0 && strings.HasPrefix(l, "--- "):
			cur.added = cur.added || l == "--- /dev/null"
		case len(cur.hunks) == 0 && strings.HasPrefix(l, "+++ "):
			cur.added = cur.added || l == "+++ /dev/null"
			cur.path = strings.TrimPrefix(l, "+++ b/")
		case strings.HasPrefix(l, "@@ "):
			h, ok := parseHunkHeader(l)
			if !ok {
				cur.path = ""
				continue
			}
			cur.hunks = append(cur.hunks, h)
		case len(cur.hunks) == 0:
		case strings.HasPrefix(l, "+"):
			h := &cur.hunks[len(cur.hunks)-1]
			h.added = append(h.added, l[1:]+"\n")
		case strings.HasPrefix(l, `\`):
			cur.hunks[len(cur.hunks)-1].partial = true
		}
	}
	kept := out[:0]
	for _, f := range out {
		if f.path != "" && !f.added && !strings.Contains(f.path, " ") {
			kept = append(kept, f)
		}
	}
	return kept
}

// parseHunkHeader reads "@@ -a[,b] +c[,d] @@".
func parseHunkHeader(l string) (diffHunk, bool) {
	f := strings.Fields(l)
	if len(f) < 3 || !strings.HasPrefix(f[1], "-") {
		return diffHunk{}, false
	}
	a, b, ok := strings.Cut(f[1][1:], ",")
	start, err1 := strconv.Atoi(a)
	n := 1
	var err2 error
	if ok {
		n, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil {
		return diffHunk{}, false
	}
	if n == 0 {
		return diffHunk{old: start, oldN: 0}, true // insertion after line start (1-based)
	}
	return diffHunk{old: start - 1, oldN: n}, true
}

// nesTask makes the task of one file's hunks: the first is the user's
// edit, the others are expected, moved into the text after it.
func nesTask(before string, hunks []diffHunk) (NESTask, bool) {
	starts := lineStarts(before)
	at := func(line int) (int, bool) {
		if line < 0 || line >= len(starts) {
			return 0, false
		}
		return starts[line], true
	}
	var edits []NESHunk // in before's offsets
	for _, h := range hunks {
		if h.partial {
			return NESTask{}, false
		}
		s, ok1 := at(h.old)
		e, ok2 := at(h.old + h.oldN)
		if !ok1 || !ok2 || e < s {
			return NESTask{}, false
		}
		edits = append(edits, NESHunk{Start: s, End: e, Text: strings.Join(h.added, "")})
	}
	first := edits[0]
	t := NESTask{Before: before, Edit: NESEdit{Start: first.Start, Old: before[first.Start:first.End], New: first.Text}}
	shift := len(first.Text) - (first.End - first.Start)
	for _, h := range edits[1:] {
		if h.Start < first.End {
			return NESTask{}, false
		}
		t.Expected = append(t.Expected, NESHunk{Start: h.Start + shift, End: h.End + shift, Text: h.Text})
	}
	return t, true
}

// lineStarts are the offsets where text's lines start, and len(text).
func lineStarts(text string) []int {
	out := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			out = append(out, i+1)
		}
	}
	if out[len(out)-1] != len(text) {
		out = append(out, len(text))
	}
	return out
}
