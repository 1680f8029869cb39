// Package eval measures completion quality the way an editor user meets it:
// it reads fill-in-the-middle tasks (dfim's JSONL lines and the
// HumanEval-Infilling files), runs each through the same infill.Completer an
// editor gets — the document is prefix + suffix, the cursor is where the
// middle starts — and scores the first suggestion against the middle: exact
// match, edit similarity, syntax validity, suffix duplication, empty
// answers, latency and engine throughput, overall and by kind and language.
// With an executor it runs HumanEval's tests in python3 for pass@1. With a
// Workspace (an index.Index of the folder the task paths are relative to)
// each task gets the cross-file context an editor open on that folder would
// send (Workspace is an infill.ContextSource for Runner.Options.Context). It also makes new tasks from any Go or Python
// source tree (Generate), optionally only those whose middle uses a name
// that another file defines (GenConfig.CrossFile).
//
// It owns the task formats, the metric definitions and their report. It
// must not reach into an engine or the infill pipeline beyond their public
// APIs: what it measures is exactly what a user gets.
package eval
