// The rules of next-edit suggestions that need no VS Code: which answer is
// shown, when VS Code's ghost text can carry it, and what is drawn.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { InlineEditRequest, cursorAtEdit, ghostable, nextEditHint, nextEditPreview, pickEdit, wantsNextEdits, type InlineEdit } from '../src/nextedit';

const uri = 'file:///tmp/a.go';
const edit = (text: string, line = 7, from = 8, to = 8, version = 3): InlineEdit => ({
  range: { start: { line, character: from }, end: { line, character: to } },
  text,
  textDocument: { uri, version },
  command: { title: 'dfim: next edit', command: 'dfim.nextEditShown' },
});

test('the request is Copilot’s, which the server answers', () => {
  assert.equal(InlineEditRequest.method, 'textDocument/copilotInlineEdit');
});

test('only an edit for this document at this version that changes something is shown', () => {
  const none = () => '';
  assert.equal(pickEdit(null, uri, 3, none), undefined);
  assert.equal(pickEdit({ edits: [] }, uri, 3, none), undefined);
  assert.equal(pickEdit({ edits: [edit('x', 7, 8, 8, 2)] }, uri, 3, none), undefined, 'an older version');
  assert.equal(pickEdit({ edits: [{ ...edit('x'), textDocument: { uri: 'file:///b.go', version: 3 } }] }, uri, 3, none), undefined);
  assert.equal(pickEdit({ edits: [edit('same', 7, 8, 12)] }, uri, 3, () => 'same'), undefined, 'a no-op');
  const want = edit(', b');
  assert.equal(pickEdit({ edits: [edit('same', 7, 8, 12), want] }, uri, 3, (r) => (r.end.character === 12 ? 'same' : '')), want);
});

test('Tab applies at the edit’s start, and jumps from anywhere else', () => {
  const e = edit('x', 7, 8, 10);
  assert.equal(cursorAtEdit(e, { line: 7, character: 8 }), true);
  assert.equal(cursorAtEdit(e, { line: 7, character: 9 }), false);
  assert.equal(cursorAtEdit(e, { line: 2, character: 8 }), false);
  assert.equal(nextEditHint(e, false), 'next edit: line 8 (Tab)');
  assert.equal(nextEditHint(e, true), 'next edit: line 8 (Tab to apply)');
});

test('ghost text carries insertions only, as VS Code 1.139 draws them', () => {
  assert.equal(ghostable('', ', b'), true, 'an added argument');
  assert.equal(ghostable('f(a)', 'f(a, b)'), true, 'the old text survives in the new');
  assert.equal(ghostable('name', 'fullName'), false, 'a rename replaces');
  assert.equal(ghostable('a\nb', 'a\nxb'), false, 'a range over lines');
  assert.equal(ghostable('x', 'x'), false);
});

test('the decoration shows the new text on one line; a replacement with an arrow', () => {
  assert.equal(nextEditPreview('', ', b'), ', b');
  assert.equal(nextEditPreview('name', 'fullName'), '→ fullName');
  assert.equal(nextEditPreview('x', 'first\nsecond'), '→ first…');
  assert.equal(nextEditPreview('', 'y'.repeat(100), 10), 'yyyyyyyyyy…');
  assert.equal(nextEditPreview('gone', ''), '(delete)');
});

test('dfim.nextEdit false or a pause stops the requests; null leaves it to the server', () => {
  assert.equal(wantsNextEdits(null, false), true);
  assert.equal(wantsNextEdits(true, false), true);
  assert.equal(wantsNextEdits(false, false), false);
  assert.equal(wantsNextEdits(true, true), false);
});
