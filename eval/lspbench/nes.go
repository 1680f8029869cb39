package lspbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/dfim/dfim/eval"
)

// The next-edit pass: edits replayed from a history (tasks of `dfim eval
// gen --nes`), each asked about with textDocument/copilotInlineEdit as
// copilot-lsp.nvim asks, and scored as `dfim eval nes` scores its own.

// MethodInlineEdit is the next-edit request of Copilot's language server,
// which dfim answers.
const MethodInlineEdit = "textDocument/copilotInlineEdit"

// NESConfig says which next-edit tasks to replay.
type NESConfig struct {
	// Dir is the workspace root: each task's file, as it was before the
	// user's edit, is written in a folder of its own under it.
	Dir   string
	Tasks []eval.NESTask
	// Wait is how long to wait for each answer (0: 30 s); a request not
	// answered by then is cancelled and counted as an error.
	Wait time.Duration
	// Progress, when set, is called after each task.
	Progress func(done, total int)
}

// A NESReport is what the next-edit pass measured: eval's next-edit
// metrics of the first edit of each answer, and latencies in ms from the
// user's edit (just before its didChange was sent) to the answer.
type NESReport struct {
	eval.NESMetrics
	Latency      eval.Latency `json:"latency_ms"`
	ShownLatency eval.Latency `json:"shown_latency_ms"`
	// TimedOut counts requests not answered within NESConfig.Wait (part
	// of Errors).
	TimedOut int `json:"timed_out"`
	// ServerFailures counts the requests that failed inside the server
	// (part of Errors); -1 when the server does not say.
	ServerFailures int    `json:"server_failures"`
	FirstError     string `json:"first_error,omitempty"`
}

// RunNES replays cfg's tasks into the server behind c: it initializes it
// with the nextEdit setting on, then for each task opens the file as it
// was before the edit, applies the user's edit as one didChange, asks for
// the next edit at the cursor the edit left, and closes the file. It
// leaves the connection open; Shutdown ends it.
func RunNES(ctx context.Context, c *Client, cfg NESConfig) (NESReport, error) {
	rep := NESReport{ServerFailures: -1}
	root, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return rep, fmt.Errorf("next-edit workspace %s: %w", cfg.Dir, err)
	}
	if err := initialize(ctx, c, fileURI(root), map[string]any{"nextEdit": true}); err != nil {
		return rep, err
	}
	wait := cfg.Wait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	before, known := serverStats(ctx, c)
	results := make([]eval.NESResult, 0, len(cfg.Tasks))
	for i, t := range cfg.Tasks {
		if err := checkNESTask(t); err != nil {
			return rep, fmt.Errorf("next-edit task %d (%s): %w", i+1, t.ID, err)
		}
		file := filepath.Join(root, fmt.Sprintf("task%04d", i+1), path.Base(t.Path))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return rep, fmt.Errorf("writing next-edit task %d: %w", i+1, err)
		}
		if err := os.WriteFile(file, []byte(t.Before), 0o644); err != nil {
			return rep, fmt.Errorf("writing next-edit task %d: %w", i+1, err)
		}
		r, err := replay(ctx, c, t, fileURI(file), languageOf(t, file), wait)
		if err != nil {
			return rep, fmt.Errorf("next-edit task %d (%s): %w", i+1, t.ID, err)
		}
		if r.Err != "" {
			if rep.FirstError == "" {
				rep.FirstError = r.ID + ": " + r.Err
			}
			if r.Latency >= wait {
				rep.TimedOut++
			}
		}
		results = append(results, r)
		if cfg.Progress != nil {
			cfg.Progress(i+1, len(cfg.Tasks))
		}
	}
	rep.NESMetrics = eval.ScoreNES(results)
	var lat, shown []float64
	for _, r := range results {
		ms := float64(r.Latency.Microseconds()) / 1000
		lat = append(lat, ms)
		if r.Shown {
			shown = append(shown, ms)
		}
	}
	rep.Latency = latency(lat)
	rep.ShownLatency = latency(shown)
	if after, ok := serverStats(ctx, c); ok && known {
		rep.ServerFailures = int(after.Failed - before.Failed)
		rep.Errors += rep.ServerFailures
		if rep.FirstError == "" && rep.ServerFailures > 0 {
			rep.FirstError = "failed inside the server: " + after.LastFailure
		}
	}
	return rep, nil
}

func latency(ms []float64) eval.Latency {
	return eval.Latency{P50: eval.Percentile(ms, 50), P95: eval.Percentile(ms, 95), Max: eval.Percentile(ms, 100)}
}

// checkNESTask reports a task whose offsets do not fit its text (a file
// edited by hand, or from another generator).
func checkNESTask(t eval.NESTask) error {
	if e := t.Edit; e.Start < 0 || e.Start+len(e.Old) > len(t.Before) || t.Before[e.Start:e.Start+len(e.Old)] != e.Old {
		return fmt.Errorf("its edit does not fit its text; make tasks with dfim eval gen --nes")
	}
	return nil
}

func languageOf(t eval.NESTask, file string) string {
	if t.Lang != "" {
		return t.Lang // "go" and "python" are LSP language ids
	}
	return languageID(file)
}

// inlineEditItem is the part of a copilotInlineEdit edit the benchmark reads.
type inlineEditItem struct {
	Range        lspRange `json:"range"`
	Text         string   `json:"text"`
	TextDocument struct {
		URI string `json:"uri"`
	} `json:"textDocument"`
}

// replay runs one task on the document uri and scores the first edit
// the server proposes. An error reply or no answer within wait is the
// result's Err; the returned error is a broken connection.
func replay(ctx context.Context, c *Client, t eval.NESTask, uri, langID string, wait time.Duration) (eval.NESResult, error) {
	r := eval.NESResult{ID: t.ID}
	if err := c.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": langID, "version": 1, "text": t.Before}}); err != nil {
		return r, err
	}
	edit := lspRange{positionAt(t.Before, t.Edit.Start), positionAt(t.Before, t.Edit.Start+len(t.Edit.Old))}
	text := t.Text()
	sent := time.Now()
	if err := c.Notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"range": edit, "text": t.Edit.New}},
	}); err != nil {
		return r, err
	}
	id, ch, err := c.Go(MethodInlineEdit, map[string]any{
		"textDocument": map[string]any{"uri": uri, "version": 2},
		"position":     positionAt(text, t.Cursor()),
	})
	if err != nil {
		return r, err
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case resp := <-ch:
		r.Latency = time.Since(sent)
		if resp.Error != nil {
			r.Err = resp.Error.Error()
			break
		}
		var res struct {
			Edits []inlineEditItem `json:"edits"`
		}
		if err := json.Unmarshal(resp.Result, &res); err != nil && string(resp.Result) != "null" {
			r.Err = fmt.Sprintf("the answer is not copilotInlineEdit's {edits: […]}: %v", err)
			break
		}
		if len(res.Edits) == 0 {
			break
		}
		e := res.Edits[0]
		r.Shown, r.Text = true, e.Text
		if e.TextDocument.URI == "" || e.TextDocument.URI == uri {
			r.Start, r.End = offsetAt(text, e.Range.Start), offsetAt(text, e.Range.End)
			r.Location, r.Exact = t.Judge(r.Start, r.End, e.Text)
		} // an edit in another file is shown, at no expected place
	case <-timer.C:
		c.Cancel(id)
		r.Latency = wait
		r.Err = fmt.Sprintf("no answer in %v", wait)
	case <-c.Done():
		return r, fmt.Errorf("the server closed the connection: %v", c.Err())
	case <-ctx.Done():
		return r, ctx.Err()
	}
	if err := c.Notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}}); err != nil {
		return r, err
	}
	return r, nil
}

// WriteNESTable writes the next-edit pass's report for people.
func WriteNESTable(w io.Writer, rep NESReport) {
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	fmt.Fprintf(w, "next edits: %d edits replayed, the first edit of each answer scored\n", rep.Tasks)
	fmt.Fprintf(w, "%-34s %8s %8s %8s\n", "", "p50 ms", "p95 ms", "max ms")
	fmt.Fprintf(w, "%-34s %8.1f %8.1f %8.1f\n", "edit to answer", rep.Latency.P50, rep.Latency.P95, rep.Latency.Max)
	fmt.Fprintf(w, "%-34s %8.1f %8.1f %8.1f\n", "edit to shown next edit", rep.ShownLatency.P50, rep.ShownLatency.P95, rep.ShownLatency.Max)
	fmt.Fprintf(w, "%-34s %8s %8s %8s\n", "", "count", "of all", "of shown")
	fmt.Fprintf(w, "%-34s %8d %7.1f%% %8s\n", "shown", rep.Shown, pct(rep.Shown, rep.Tasks), "")
	fmt.Fprintf(w, "%-34s %8d %7.1f%% %7.1f%%\n", "overlaps an expected hunk", rep.LocationHits, pct(rep.LocationHits, rep.Tasks), pct(rep.LocationHits, rep.Shown))
	fmt.Fprintf(w, "%-34s %8d %7.1f%% %7.1f%%\n", "equals an expected hunk", rep.ExactMatches, pct(rep.ExactMatches, rep.Tasks), pct(rep.ExactMatches, rep.Shown))
	fmt.Fprintf(w, "errors %d (%d timed out", rep.Errors, rep.TimedOut)
	if rep.ServerFailures >= 0 {
		fmt.Fprintf(w, ", %d failed inside the server", rep.ServerFailures)
	}
	fmt.Fprintln(w, ")")
	if rep.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", rep.FirstError)
	}
}
