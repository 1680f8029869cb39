import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DenoiseTracker, decorationText, resolved, stepSummary } from '../src/denoise';
import type { DenoiseStepParams } from '../src/protocol';

const uri = 'file:///w/main.go';
function step(n: number, holes: string[], over: Partial<DenoiseStepParams> = {}): DenoiseStepParams {
  return { textDocument: { uri, version: 3 }, position: { line: 6, character: 13 }, candidate: 0, step: n, holes, ...over };
}

test('each step replaces the frame and counts the masked positions', () => {
  const t = new DenoiseTracker();
  const a = t.apply(step(0, ['░░░░░']));
  assert.ok(a);
  assert.equal(a.masked, 5);
  assert.equal(a.total, 5);
  assert.equal(resolved(a), 0);
  const b = t.apply(step(1, ['na░e)']));
  assert.ok(b);
  assert.equal(b.masked, 1);
  assert.equal(resolved(b), 0.8);
  assert.equal(t.frame(uri), b);
  assert.equal(stepSummary(b), 'step 2 · 1/5 masked');
});

test('candidates other than the first are not drawn', () => {
  const t = new DenoiseTracker();
  assert.equal(t.apply(step(0, ['x'], { candidate: 1 })), undefined);
  assert.equal(t.frame(uri), undefined);
});

test('steps of an older document version are dropped; a newer version starts over', () => {
  const t = new DenoiseTracker();
  t.apply(step(4, ['ab']));
  assert.equal(t.apply(step(5, ['zz'], { textDocument: { uri, version: 2 } })), undefined);
  assert.equal(t.frame(uri)?.holes[0], 'ab');
  const next = t.apply(step(0, ['░░'], { textDocument: { uri, version: 4 } }));
  assert.equal(next?.step, 0);
  assert.equal(next?.version, 4);
});

test('a new pass over the same span (syntax repair) is drawn from its first step', () => {
  const t = new DenoiseTracker();
  t.apply(step(3, ['if x {']));
  assert.equal(t.apply(step(0, ['if x ░'], {}))?.masked, 1);
});

test('documents are tracked apart, and clear forgets one', () => {
  const t = new DenoiseTracker();
  t.apply(step(0, ['a']));
  t.apply(step(0, ['b'], { textDocument: { uri: 'file:///w/other.go', version: 1 } }));
  t.clear(uri);
  assert.equal(t.frame(uri), undefined);
  assert.equal(t.frame('file:///w/other.go')?.holes[0], 'b');
});

test('malformed notifications are ignored, not thrown on', () => {
  const t = new DenoiseTracker();
  for (const bad of [null, {}, { textDocument: { uri } }, { textDocument: { uri, version: 1 }, holes: 'x', position: { line: 0, character: 0 } }]) {
    assert.equal(t.apply(bad as unknown as DenoiseStepParams), undefined);
  }
  const odd = t.apply(step(0, ['ok', 7 as unknown as string]));
  assert.deepEqual(odd?.holes, ['ok', '']);
});

test('an empty hole is fully resolved', () => {
  const f = new DenoiseTracker().apply(step(0, ['']));
  assert.ok(f);
  assert.equal(resolved(f), 1);
});

test('decoration text is one line, tabs widened, long text cut by code points', () => {
  const f = new DenoiseTracker().apply(step(0, ['if err != nil {\n\treturn ░░\n}', 'second']));
  assert.ok(f);
  assert.equal(decorationText(f), 'if err != nil {⏎  return ░░⏎}');
  assert.equal(stepSummary(f), 'step 1 · 2/34 masked · 2 holes');
  const long = new DenoiseTracker().apply(step(0, ['𝄞'.repeat(10)]));
  assert.ok(long);
  assert.equal(decorationText(long, 4), '𝄞𝄞𝄞…');
});
