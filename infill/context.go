package infill

// A ContextSource gives the cross-file context of a cursor: text from other
// files of the workspace that may help fill the hole at byte offset in
// text (the document at path), already formatted as comments of the
// document's language, at most budgetBytes long, "" when it has none. It
// must not block on I/O: infill asks it on every completion. *index.Index
// is one.
type ContextSource interface {
	Context(path, text string, offset, budgetBytes int) string
}

// DefaultContextBytes is the cross-file context budget when
// Options.ContextBytes is 0.
const DefaultContextBytes = 1500

// crossFileContext is the cross-file context of a completion at pos in doc:
// Options.ExtraContext when the caller gave it, else what Options.Context
// has within Options.ContextBytes.
func crossFileContext(doc Document, pos int, opts Options) string {
	if opts.ExtraContext != "" || opts.Context == nil {
		return opts.ExtraContext
	}
	budget := opts.ContextBytes
	if budget == 0 {
		budget = DefaultContextBytes
	}
	if budget < 0 {
		return ""
	}
	return opts.Context.Context(doc.Path, doc.Text, pos, budget)
}
