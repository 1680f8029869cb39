import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dropNoOps } from '../src/noop';

test('items that change nothing are dropped', () => {
  const line = '\tfmt.Println()';
  const textAt = (r: { start: number; end: number }) => line.slice(r.start, r.end);
  const items = [
    { insertText: ')', range: { start: 13, end: 14 } }, // ")" over ")"
    { insertText: 'name)', range: { start: 13, end: 14 } },
    { insertText: { value: 'Println()' }, range: { start: 5, end: 14 } }, // the same text again
    { insertText: '' }, // an empty insertion at the cursor
    { insertText: 'x' },
  ];
  assert.deepEqual(
    dropNoOps(items, textAt).map((i) => i.insertText),
    ['name)', 'x'],
  );
});
