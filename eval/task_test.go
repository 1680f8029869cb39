package eval

import (
	"bytes"
	"compress/gzip"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadTasksSkipsMalformedLinesWithTheirNumbers(t *testing.T) {
	input := strings.Join([]string{
		`{"id":"go/single-line/0","lang":"go","path":"go/a.go","prefix":"func f() {\n\t","middle":"return","suffix":"\n}\n","kind":"single-line"}`,
		``, // blank: skipped silently
		`{"id":"broken", "prefix": "x"`,
		`{"id":"no-middle","lang":"go","prefix":"a","suffix":"b"}`,
		`[1, 2, 3]`,
		`{"id":"py/0","path":"pkg/mod.py","prefix":"def f():\n    ","middle":"pass","suffix":"\n"}`,
		`{"id":"nolang","prefix":"a","middle":"b","suffix":"c"}`,
		`{"task_id":"X/0","entry_point":"f","prompt":"def f():\n","suffix":"","canonical_solution":"    return 1\n","test":"def check(c):\n    assert c() == 1\n"}`,
	}, "\n")
	tasks, bad, err := ReadTasks(strings.NewReader(input), "tasks.jsonl")
	if err != nil {
		t.Fatalf("ReadTasks: %v", err)
	}
	var ids []string
	for _, tk := range tasks {
		ids = append(ids, tk.ID)
	}
	if got, want := strings.Join(ids, " "), "go/single-line/0 py/0 X/0"; got != want {
		t.Errorf("read tasks %q, want %q", got, want)
	}
	var lines []int
	for _, b := range bad {
		lines = append(lines, b.Line)
		if !strings.HasPrefix(b.Error(), "tasks.jsonl:") {
			t.Errorf("error %q does not name the file and line", b.Error())
		}
	}
	if want := []int{3, 4, 5, 7}; !equalInts(lines, want) {
		t.Errorf("malformed lines reported %v, want %v (%v)", lines, want, bad)
	}
	if !strings.Contains(bad[1].Error(), "middle") {
		t.Errorf("missing-field error %q does not name the field", bad[1])
	}
	py := tasks[1]
	if py.Lang != "python" || py.Kind != "unknown" {
		t.Errorf("task without lang or kind: got lang %q kind %q, want python (from the path) and unknown", py.Lang, py.Kind)
	}
	he := tasks[2]
	if he.Test == nil || he.Test.EntryPoint != "f" || he.Middle != "    return 1\n" || he.Lang != "python" || !strings.HasSuffix(he.Path, ".py") {
		t.Errorf("HumanEval line read as %+v", he)
	}
}

func TestReadTasksGzipped(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"id":"a","lang":"go","prefix":"p","middle":"m","suffix":"s","kind":"single-line"}` + "\n"))
	zw.Close()
	tasks, bad, err := ReadTasks(&buf, "x.jsonl.gz")
	if err != nil || len(bad) > 0 || len(tasks) != 1 || tasks[0].Middle != "m" {
		t.Fatalf("ReadTasks(gzip) = %v, %v, %v; want one task", tasks, bad, err)
	}
}

func TestReadTasksLongLine(t *testing.T) {
	long := strings.Repeat("x", 300_000) // beyond bufio.Scanner's default limit
	line := `{"id":"long","lang":"go","prefix":"` + long + `","middle":"m","suffix":"s"}`
	tasks, bad, err := ReadTasks(strings.NewReader(line), "long.jsonl")
	if err != nil || len(bad) > 0 || len(tasks) != 1 || len(tasks[0].Prefix) != len(long) {
		t.Fatalf("long line: %d tasks, bad %v, err %v", len(tasks), bad, err)
	}
}

// humanEvalDir holds the benchmark's files, shipped in testdata/eval.
const humanEvalDir = "../testdata/eval/humaneval-infilling"

func TestReadHumanEvalFiles(t *testing.T) {
	for _, c := range []struct {
		file, kind string
		n          int
	}{
		{"HumanEval-SingleLineInfilling.jsonl.gz", "single-line", 1033},
		{"HumanEval-MultiLineInfilling.jsonl.gz", "multi-line", 5815},
		{"HumanEval-RandomSpanInfillingLight.jsonl.gz", "random-span", 164},
	} {
		path := filepath.Join(humanEvalDir, c.file)
		tasks, bad, err := LoadTasks(path)
		if err != nil || len(bad) > 0 {
			t.Fatalf("%s: err %v, malformed %v", c.file, err, bad)
		}
		if len(tasks) != c.n {
			t.Errorf("%s: %d tasks, want %d", c.file, len(tasks), c.n)
		}
		for _, tk := range tasks {
			if tk.Kind != c.kind || tk.Lang != "python" || tk.Test == nil || tk.Test.EntryPoint == "" || tk.ID == "" {
				t.Fatalf("%s: task read as id %q kind %q lang %q test %v", c.file, tk.ID, tk.Kind, tk.Lang, tk.Test)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
