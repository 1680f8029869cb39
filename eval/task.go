package eval

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dfim/dfim/infill/syntax"
)

// A Task is one fill-in-the-middle case: the document is Prefix + Suffix,
// the cursor sits between them, and Middle is what the file really had there.
// Its JSON is a line of dev.jsonl: {"id","lang","path","prefix","middle","suffix","kind"}.
type Task struct {
	ID     string `json:"id"`
	Lang   string `json:"lang"` // "go", "python", …
	Path   string `json:"path"` // names the file; its extension gives the language to infill
	Prefix string `json:"prefix"`
	Middle string `json:"middle"`
	Suffix string `json:"suffix"`
	Kind   string `json:"kind"` // "single-line", "multi-line", "random-span", …
	// Test is set for HumanEval-Infilling tasks: what --exec runs for pass@1.
	Test *PythonTest `json:"-"`
}

// A PythonTest is HumanEval's check for one task: Test defines
// check(candidate), which is called with the function named EntryPoint.
type PythonTest struct {
	Test       string
	EntryPoint string
}

// A LineError is one task line that could not be read; the reader skips it.
type LineError struct {
	File string
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// dfimLine is a task line with every field optional, to tell missing from empty.
type dfimLine struct {
	ID     *string `json:"id"`
	Lang   *string `json:"lang"`
	Path   *string `json:"path"`
	Prefix *string `json:"prefix"`
	Middle *string `json:"middle"`
	Suffix *string `json:"suffix"`
	Kind   *string `json:"kind"`
}

// humanEvalLine is a line of the HumanEval-Infilling files.
type humanEvalLine struct {
	TaskID            *string `json:"task_id"`
	EntryPoint        *string `json:"entry_point"`
	Prompt            *string `json:"prompt"`
	Suffix            *string `json:"suffix"`
	CanonicalSolution *string `json:"canonical_solution"`
	Test              *string `json:"test"`
}

// LoadTasks reads the tasks of a file: dfim JSONL lines or HumanEval-Infilling
// lines, gzipped or not. Lines it cannot read come back as LineErrors and are
// skipped; err is only for a file that cannot be opened or read at all.
func LoadTasks(file string) (tasks []Task, bad []*LineError, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, fmt.Errorf("opening tasks: %w (check --tasks)", err)
	}
	defer f.Close()
	return ReadTasks(f, file)
}

// ReadTasks reads tasks from r, which may be gzipped; name is the file name,
// for messages and for the kind of HumanEval tasks (SingleLine, MultiLine,
// RandomSpan in the name). Blank lines are skipped silently.
func ReadTasks(r io.Reader, name string) (tasks []Task, bad []*LineError, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: bad gzip header: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	heKind := humanEvalKind(name)
	for lineNo := 1; ; lineNo++ {
		// ReadBytes, not a Scanner: a task line (prefix, suffix, test) has no length bound.
		line, rerr := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			t, perr := parseTaskLine(line, heKind)
			if perr != nil {
				bad = append(bad, &LineError{File: name, Line: lineNo, Err: perr})
			} else {
				tasks = append(tasks, t)
			}
		}
		if rerr == io.EOF {
			return tasks, bad, nil
		}
		if rerr != nil {
			return tasks, bad, fmt.Errorf("reading %s at line %d: %w", name, lineNo, rerr)
		}
	}
}

func parseTaskLine(line []byte, heKind string) (Task, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(line, &probe); err != nil {
		return Task{}, fmt.Errorf("not a JSON object: %v", shortJSONError(err))
	}
	if _, ok := probe["task_id"]; ok {
		return parseHumanEval(line, heKind)
	}
	var l dfimLine
	if err := json.Unmarshal(line, &l); err != nil {
		return Task{}, fmt.Errorf("bad task: %v", shortJSONError(err))
	}
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"id", l.ID}, {"prefix", l.Prefix}, {"middle", l.Middle}, {"suffix", l.Suffix}} {
		if f.v == nil {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Task{}, fmt.Errorf("task lacks %s (want {\"id\",\"lang\",\"path\",\"prefix\",\"middle\",\"suffix\",\"kind\"})", strings.Join(missing, ", "))
	}
	t := Task{ID: *l.ID, Prefix: *l.Prefix, Middle: *l.Middle, Suffix: *l.Suffix, Lang: deref(l.Lang), Path: deref(l.Path), Kind: deref(l.Kind)}
	if t.Lang == "" {
		t.Lang = syntax.Detect("", t.Path)
	}
	if t.Lang == "" {
		return Task{}, fmt.Errorf("task %q has no lang and its path %q names no language", t.ID, t.Path)
	}
	if t.Path == "" {
		t.Path = t.ID + syntax.Extension(t.Lang)
	}
	if t.Kind == "" {
		t.Kind = "unknown"
	}
	return t, nil
}

func parseHumanEval(line []byte, kind string) (Task, error) {
	var h humanEvalLine
	if err := json.Unmarshal(line, &h); err != nil {
		return Task{}, fmt.Errorf("bad HumanEval task: %v", shortJSONError(err))
	}
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"task_id", h.TaskID}, {"prompt", h.Prompt}, {"suffix", h.Suffix}, {"canonical_solution", h.CanonicalSolution}, {"test", h.Test}, {"entry_point", h.EntryPoint}} {
		if f.v == nil {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Task{}, fmt.Errorf("HumanEval task lacks %s", strings.Join(missing, ", "))
	}
	return Task{
		ID:     *h.TaskID,
		Lang:   "python",
		Path:   strings.NewReplacer("/", "_", " ", "_").Replace(*h.TaskID) + ".py",
		Prefix: *h.Prompt,
		Middle: *h.CanonicalSolution,
		Suffix: *h.Suffix,
		Kind:   kind,
		Test:   &PythonTest{Test: *h.Test, EntryPoint: *h.EntryPoint},
	}, nil
}

// humanEvalKind names the kind of HumanEval-Infilling tasks from the file name.
func humanEvalKind(name string) string {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.Contains(base, "singleline"):
		return "single-line"
	case strings.Contains(base, "multiline"):
		return "multi-line"
	case strings.Contains(base, "randomspan"):
		return "random-span"
	}
	return "humaneval"
}

func shortJSONError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%v at byte %d", se, se.Offset)
	}
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
