// Next-edit suggestions: after an edit, the server predicts the matching
// edit elsewhere (textDocument/copilotInlineEdit, Copilot's request).
// VS Code 1.139's stable inline-completion API shows an item only as ghost
// text on the cursor's line, and only when the text it replaces after the
// cursor survives in the new text (an insertion); a range away from the
// cursor, or a real replacement, needs the proposed inlineCompletionsAdditions
// API (isInlineEdit), which a published extension cannot enable. So the
// extension draws the prediction itself, as a decoration at its place with
// a status-bar hint; Tab jumps there, then applies it (through VS Code's own
// ghost text where that can show it), Escape dismisses it. Pure: no vscode
// import, so the rules are tested without VS Code.

import { RequestType, type Position, type Range } from 'vscode-languageserver-protocol';

/** Params of textDocument/copilotInlineEdit (lsp/inline_edit.go inlineEditParams). */
export interface InlineEditParams {
  textDocument: { uri: string; version: number };
  position: Position;
}

/** One predicted edit, in copilot-lsp's shape: range of textDocument's version becomes text. */
export interface InlineEdit {
  range: Range;
  text: string;
  textDocument: { uri: string; version: number };
  command?: { title: string; command: string; arguments?: unknown[] };
}

export interface InlineEditResult {
  edits: InlineEdit[];
}

export const InlineEditRequest = new RequestType<InlineEditParams, InlineEditResult | null, void>('textDocument/copilotInlineEdit');

/**
 * How long the extension waits after the last change of a document before
 * it asks for a prediction: long enough that a word being typed is not
 * predicted from at each keystroke.
 */
export const nextEditDebounceMs = 300;

/** Whether the user asked for predictions: dfim.nextEdit false turns them off; null leaves it to the server. */
export function wantsNextEdits(setting: boolean | null, paused: boolean): boolean {
  return setting !== false && !paused;
}

/**
 * The edit to show from a server's answer for uri at version: the first
 * that is for that document and version and changes something (textIn reads
 * the text a range covers now), or undefined.
 */
export function pickEdit(res: InlineEditResult | null | undefined, uri: string, version: number, textIn: (r: Range) => string): InlineEdit | undefined {
  for (const e of res?.edits ?? []) {
    if (e.textDocument.uri !== uri || e.textDocument.version !== version) continue;
    if (textIn(e.range) === e.text) continue;
    return e;
  }
  return undefined;
}

/** Whether position is where the edit starts: Tab applies it there, elsewhere Tab jumps to it. */
export function cursorAtEdit(e: InlineEdit, p: Position): boolean {
  return p.line === e.range.start.line && p.character === e.range.start.character;
}

/**
 * Whether VS Code's ghost text can show the edit with the cursor at its
 * start: a one-line range whose old text is a subsequence of the new one
 * (VS Code 1.139 draws an inline completion only when the text after the
 * cursor survives in it; otherwise it drops the item silently).
 */
export function ghostable(old: string, text: string): boolean {
  if (old.includes('\n') || text === old) return false;
  let i = 0;
  for (let j = 0; j < text.length && i < old.length; j++) if (text[j] === old[i]) i++;
  return i === old.length;
}

/** The status-bar hint for a shown prediction (lines count from 1). */
export function nextEditHint(e: InlineEdit, atIt: boolean): string {
  return `next edit: line ${e.range.start.line + 1} (Tab${atIt ? ' to apply' : ''})`;
}

/** The status-bar text while a prediction is asked for. */
export const nextEditPending = 'next edit…';

/**
 * The decoration's text after the place: what it would read, on one line.
 * An insertion shows the inserted text; a replacement shows "→ new text"
 * after the old text (drawn struck through). Long or multi-line text is cut
 * with "…"; the hover has it whole.
 */
export function nextEditPreview(old: string, text: string, max = 80): string {
  const lines = text.split(/\r?\n/);
  let shown = lines[0];
  let cut = lines.length > 1;
  if (shown.length > max) {
    shown = shown.slice(0, max);
    cut = true;
  }
  if (cut) shown += '…';
  if (text === '') return '(delete)';
  return old === '' ? shown : `→ ${shown}`;
}
