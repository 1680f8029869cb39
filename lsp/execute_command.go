package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/dfim/dfim/batch"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/infill/syntax"
)

// The commands of workspace/executeCommand. Both fill holes of one open
// document with the code `dfim batch` uses and answer with a
// workspace/applyEdit request to the client.
const (
	// CommandFillHoles fills every hole marker (<<fill>>, <<fill:N>>) of a
	// document. Arguments: [{"uri": URI}].
	CommandFillHoles = "dfim.fillHoles"
	// CommandFillSelection regenerates a range of a document. Arguments:
	// [{"uri": URI, "range": Range}].
	CommandFillSelection = "dfim.fillSelection"
)

// commands are advertised in executeCommandProvider.
var commands = []string{CommandFillHoles, CommandFillSelection}

// RequestFailed is LSP 3.17's code for a request that was valid but failed.
const RequestFailed jsonrpc2.Code = -32803

// markers finds the hole markers of dfim.fillHoles, as `dfim batch` does.
var markers = func() *infill.MarkerSyntax {
	m, err := infill.NewMarkerSyntax(infill.DefaultMarker)
	if err != nil {
		panic(err) // the default marker is a constant
	}
	return m
}()

type executeCommandParams struct {
	Command   string            `json:"command"`
	Arguments []json.RawMessage `json:"arguments"`
}

// commandArgs is the one argument object both commands take.
type commandArgs struct {
	URI   protocol.DocumentURI `json:"uri"`
	Range *protocol.Range      `json:"range"`
}

// executeCommand runs dfim.fillHoles or dfim.fillSelection. The reply is
// null once the client has applied the edit (or when there was nothing to
// apply, said with window/showMessage), or an error saying what was wrong
// with the request or why the fill failed.
func (s *Server) executeCommand(r *request) {
	var p executeCommandParams
	if err := decode(r.params, &p); err != nil {
		r.respond(nil, err)
		return
	}
	if p.Command != CommandFillHoles && p.Command != CommandFillSelection {
		r.respond(nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "dfim: unknown command %q; dfim offers %s",
			p.Command, strings.Join(commands, " and ")))
		return
	}
	args, err := decodeCommandArgs(p)
	if err != nil {
		r.respond(nil, err)
		return
	}
	r.uri = args.URI
	snap, set, err := s.commandSnapshot(p.Command, args.URI)
	if err != nil {
		r.respond(nil, err)
		return
	}
	var holes []infill.Hole
	if p.Command == CommandFillHoles {
		// Markers in code only, as dfim batch fills them: a <<fill>> in a
		// comment or a string is text.
		holes, _, err = infill.CodeHoles(s.ctx, syntax.Detect(snap.doc.LanguageID, snap.doc.Path), snap.doc.Text, markers.Holes(snap.doc.Text))
		if err != nil {
			r.respond(nil, jsonrpc2.Errorf(RequestFailed, "dfim: %s: %v", p.Command, err))
			return
		}
		if len(holes) == 0 {
			s.showMessage(protocol.MessageTypeInfo, fmt.Sprintf("dfim: no %s markers in the code of %s; write %s (or <<fill:N>> for at most N lines) where code should go",
				infill.DefaultMarker, args.URI, infill.DefaultMarker))
			r.respond(nil, nil)
			return
		}
	} else {
		start, end := snap.mapper.Offset(args.Range.Start), snap.mapper.Offset(args.Range.End)
		if end < start {
			r.respond(nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "dfim: %s: range %s ends before it starts",
				p.Command, mustMarshal(args.Range)))
			return
		}
		holes = []infill.Hole{selectionHole(snap.doc.Text, start, end)}
	}
	s.goAsync(r, r.uri, snap.doc.Version, nil, func(ctx context.Context) (any, error) {
		return nil, s.fillAndApply(ctx, p.Command, snap, holes, set)
	})
}

// decodeCommandArgs checks the arguments of a fill command.
func decodeCommandArgs(p executeCommandParams) (commandArgs, error) {
	want := `[{"uri": "file:///…"}]`
	if p.Command == CommandFillSelection {
		want = `[{"uri": "file:///…", "range": {"start": …, "end": …}}]`
	}
	var args commandArgs
	if len(p.Arguments) != 1 {
		return args, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "dfim: %s takes one argument, %s; got %d", p.Command, want, len(p.Arguments))
	}
	if err := json.Unmarshal(p.Arguments[0], &args); err != nil {
		return args, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "dfim: %s: bad argument %s: %v; want %s", p.Command, clip(p.Arguments[0]), err, want)
	}
	if args.URI == "" {
		return args, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "dfim: %s: the argument has no \"uri\"; want %s", p.Command, want)
	}
	if p.Command == CommandFillSelection && args.Range == nil {
		return args, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "dfim: %s: the argument has no \"range\"; want %s", p.Command, want)
	}
	return args, nil
}

// commandSnapshot returns the snapshot a command fills. Unlike automatic
// completion it ignores the languages setting: the user asked explicitly.
func (s *Server) commandSnapshot(cmd string, uri protocol.DocumentURI) (*snapshot, Settings, error) {
	s.mu.Lock()
	d := s.docs[uri]
	set, enc := s.settings, s.enc
	s.mu.Unlock()
	switch {
	case d == nil:
		return nil, set, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "dfim: %s: document %s is not open; open it in the editor first", cmd, uri)
	case d.buf == nil:
		return nil, set, jsonrpc2.Errorf(RequestFailed, "dfim: %s: document %s is %d bytes, over the %d-byte limit dfim fills",
			cmd, uri, d.size, s.opts.MaxDocumentBytes)
	}
	return d.snapshot(enc), set, nil
}

// selectionHole is the hole of dfim.fillSelection: exactly the selected
// bytes, with a line hint as long as the selection when it has text.
func selectionHole(text string, start, end int) infill.Hole {
	h := infill.Hole{Start: start, End: end}
	if end > start {
		h.MaxLines = strings.Count(strings.TrimSuffix(text[start:end], "\n"), "\n") + 1
	}
	return h
}

// fillAndApply fills holes of snap and asks the client to apply the fills.
// Holes left unfilled are reported with window/showMessage; so is a
// document that changed while it was being filled (nothing is applied).
func (s *Server) fillAndApply(ctx context.Context, cmd string, snap *snapshot, holes []infill.Hole, set Settings) error {
	c, err := s.waitCompleter(ctx)
	if err != nil {
		if ctx.Err() != nil {
			s.reportStale(snap)
			return nil
		}
		return jsonrpc2.Errorf(RequestFailed, "dfim: %s: %v", cmd, err)
	}
	done := s.commandProgress(fmt.Sprintf("filling %d hole(s) of %s", len(holes), snap.doc.Path))
	start := time.Now()
	// Context for the first hole: the holes of one command are usually
	// near each other, and the budget is for one canvas.
	opts := infill.Options{Steps: set.Steps, MaxTokens: set.MaxTokens, Context: s.contextSource(set), ContextBytes: set.CrossFileContextBytes, ContextTokens: set.CanvasTokens}
	sugg, err := c.FillHoles(ctx, snap.doc, holes, opts)
	done()
	if ctx.Err() != nil {
		s.reportStale(snap)
		return nil
	}
	if err != nil {
		return jsonrpc2.Errorf(RequestFailed, "dfim: %s on %s failed: %v", cmd, snap.doc.Path, err)
	}
	edits, problems := holeEdits(snap, holes, sugg)
	s.log.Info("filled holes", zap.String("command", cmd), zap.String("document", snap.doc.Path),
		zap.Int("holes", len(holes)), zap.Int("filled", len(edits)), zap.Duration("took", time.Since(start)))
	if len(problems) > 0 {
		s.showMessage(protocol.MessageTypeWarning, fmt.Sprintf("dfim: %d of %d holes not filled: %s",
			len(problems), len(holes), strings.Join(problems, "; ")))
	}
	if len(edits) == 0 {
		return nil
	}
	if s.reportStale(snap) {
		return nil
	}
	return s.applyEdit(cmd, snap, edits)
}

// holeEdits turns the suggestions for holes into text edits in document
// order, and says for each hole left unfilled where it is and why. Which
// fills are applied is decided by batch.Judge, as `dfim batch` decides
// which it writes.
func holeEdits(snap *snapshot, holes []infill.Hole, sugg []infill.Suggestion) ([]protocol.TextEdit, []string) {
	fills, refused := batch.Judge(syntax.Detect(snap.doc.LanguageID, snap.doc.Path), snap.doc.Text, holes, sugg)
	edits := make([]protocol.TextEdit, 0, len(fills))
	for _, f := range fills {
		edits = append(edits, protocol.TextEdit{Range: snap.mapper.Range(f.Start, f.End), NewText: f.Text})
	}
	var problems []string
	for _, r := range refused {
		line := int(snap.mapper.Position(holes[r.Hole].Start).Line) + 1
		problems = append(problems, fmt.Sprintf("line %d: %s", line, r.Why))
	}
	return edits, problems
}

// reportStale reports whether snap's document has changed or closed since
// the snapshot, telling the user so when it has.
func (s *Server) reportStale(snap *snapshot) bool {
	uri := snap.uri
	s.mu.Lock()
	d := s.docs[uri]
	stale := d == nil || d.version != snap.doc.Version
	s.mu.Unlock()
	if stale {
		s.showMessage(protocol.MessageTypeWarning, fmt.Sprintf(
			"dfim: %s changed while its holes were being filled (version %d); nothing was applied, run the command again",
			uri, snap.doc.Version))
	}
	return stale
}

// applyEdit sends the edits to the client as one workspace/applyEdit:
// versioned documentChanges when the client supports them (so it refuses
// them on a newer version), plain changes otherwise.
func (s *Server) applyEdit(cmd string, snap *snapshot, edits []protocol.TextEdit) error {
	uri := snap.uri
	s.mu.Lock()
	versioned := s.docChangesOK
	s.mu.Unlock()
	var we protocol.WorkspaceEdit
	if versioned {
		v := snap.doc.Version
		we.DocumentChanges = []protocol.TextDocumentEdit{{
			TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{
				TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: &v},
			Edits: edits,
		}}
	} else {
		we.Changes = map[protocol.DocumentURI][]protocol.TextEdit{uri: edits}
	}
	// The session's context, not the request's: applying the edit sends a
	// didChange that would cancel the request before the client answers.
	var res protocol.ApplyWorkspaceEditResponse
	if _, err := s.conn.Call(s.ctx, protocol.MethodWorkspaceApplyEdit,
		&protocol.ApplyWorkspaceEditParams{Label: "dfim: " + cmd, Edit: we}, &res); err != nil {
		return jsonrpc2.Errorf(RequestFailed, "dfim: %s: the editor could not apply the fills to %s: %v", cmd, uri, err)
	}
	if !res.Applied {
		why := res.FailureReason
		if why == "" {
			why = "no reason given (was the document changed meanwhile?)"
		}
		return jsonrpc2.Errorf(RequestFailed, "dfim: %s: the editor refused the fills for %s: %s", cmd, uri, why)
	}
	return nil
}

// commandProgress shows work-done progress while a command fills, when the
// client supports it, and returns the function that ends it.
func (s *Server) commandProgress(msg string) func() {
	s.mu.Lock()
	ok := s.progressOK
	s.progressSeq++
	token := fmt.Sprintf("dfim-fill-%d", s.progressSeq)
	s.mu.Unlock()
	if !ok || !s.beginProgress(token, "dfim", msg) {
		return func() {}
	}
	return func() {
		s.notify(protocol.MethodProgress, map[string]any{"token": token, "value": map[string]any{"kind": "end"}})
	}
}

func mustMarshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
