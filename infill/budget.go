package infill

// Canvas budgets: a canvas is sized for the time its first pass takes, not
// for the model's context. A pulled model's context is 32K tokens, enough
// for most files whole, but the first full pass over the canvas grows at
// least linearly with its length (on the Qwen2.5-Coder-0.5B shape, a
// whole 168-line file is ~1,100 tokens and its first pass was 92% of a
// suggestion's time), while what helps a fill is mostly the text nearest
// the hole. So each kind of request gets a budget of prefix, suffix and
// cross-file context tokens, within the engine's context; the whole file
// only when asked (Options.ContextTokens < 0).

// A canvasBudget is the most tokens each part of a canvas may take, on top
// of the engine's context limit (sizer.context). Zero fields are unlimited.
type canvasBudget struct {
	prefix int // the prefix window (the cursor's line always)
	suffix int // the suffix window (the rest of the cursor's line always)
	extra  int // cross-file context before the prefix
}

// The budgets by request kind. The built-in model's context (256 tokens)
// holds less than either, so its canvases do not change; on dev its
// quality fell when the suffix went below its ~56 tokens (exact match
// 0.032 → 0.030 at 32) or the prefix below ~96 (0.032 → 0.030 at 48),
// and the margins here are for models trained on longer files. On the
// Qwen2.5-0.5B shape the first pass grows faster than the canvas (a
// 464-token canvas took 2.8 s, 2,037 tokens 73 s, the whole 3,616-token
// sample 95 s, on a loaded 2-core machine).
var (
	// inlineBudget is for suggestions shown unasked as the user types:
	// they must come in a few hundred milliseconds.
	inlineBudget = canvasBudget{prefix: 384, suffix: 128, extra: 128}
	// askedBudget is for fills the user asked for (dfim fill, the
	// editor's invoked completion and Fill Holes, batch): a longer wait
	// is expected, and a block gains from more of its function.
	askedBudget = canvasBudget{prefix: 1024, suffix: 256, extra: 384}
)

// budgetFor is the canvas budget of a request with opts: none when the
// caller sized the canvas itself (ContextTokens > 0) or asked for the
// whole file (ContextTokens < 0), else by its kind.
func budgetFor(opts Options) canvasBudget {
	switch {
	case opts.ContextTokens != 0:
		return canvasBudget{}
	case unasked(opts):
		return inlineBudget
	}
	return askedBudget
}

// capped is n limited to limit, when limit is set (> 0).
func capped(n, limit int) int {
	if limit > 0 {
		return min(n, limit)
	}
	return n
}
