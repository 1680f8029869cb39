import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatLatency, modelName, statusView, type Status } from '../src/status';

const ready: Status = { state: 'ready', paused: false, engine: 'native', model: '' };

test('the status bar names the engine, the model and the last latency', () => {
  const v = statusView({ ...ready, lastLatencyMs: 84.4, lastItems: 1, server: 'dfim 0.1.0' });
  assert.equal(v.text, '$(sparkle) dfim native · built-in · 84 ms');
  assert.match(v.tooltip, /^Engine: native\nModel: built-in\nServer: dfim 0.1.0\nLast completion: 84 ms \(1 suggestion\)\nClick to pause/);
  assert.equal(v.level, 'normal');
});

test('a GGUF model shows as its file name; the tooltip has the full path', () => {
  const v = statusView({ ...ready, model: '/models/dream-coder-7b.q8_0.gguf' });
  assert.equal(v.text, '$(sparkle) dfim native · dream-coder-7b.q8_0.gguf');
  assert.match(v.tooltip, /Model: \/models\/dream-coder-7b.q8_0.gguf/);
  assert.equal(modelName('C:\\models\\x.gguf'), 'x.gguf');
});

test('paused shows as a warning that says how to resume', () => {
  const v = statusView({ ...ready, paused: true, lastLatencyMs: 10 });
  assert.equal(v.text, '$(debug-pause) dfim paused');
  assert.equal(v.level, 'warning');
  assert.match(v.tooltip, /click to resume/);
});

test('a failed server says why and what to do', () => {
  const v = statusView({ ...ready, state: 'failed', error: 'spawn dfim ENOENT' });
  assert.equal(v.text, '$(error) dfim');
  assert.equal(v.level, 'error');
  assert.match(v.tooltip, /Server failed: spawn dfim ENOENT\nRun "dfim: Restart Server"/);
});

test('while denoising, the step replaces the latency', () => {
  const v = statusView({ ...ready, lastLatencyMs: 50, denoising: 'step 2 · 3/8 masked' });
  assert.equal(v.text, '$(sparkle) dfim native · built-in · step 2 · 3/8 masked');
});

test('latencies read in ms below a second, in seconds above', () => {
  assert.equal(formatLatency(0.4), '0 ms');
  assert.equal(formatLatency(999.4), '999 ms');
  assert.equal(formatLatency(1234), '1.2 s');
  assert.equal(formatLatency(-1), '');
  assert.equal(formatLatency(Number.NaN), '');
});

test('with the built-in model the tooltip says how to download a stronger one', () => {
  const v = statusView({ state: 'ready', paused: false, engine: 'native', model: '' });
  assert.match(v.tooltip, /"dfim: Download a Model…" fetches a stronger one \(open-dcoder-0.5b/);
  const pulled = statusView({ state: 'ready', paused: false, engine: 'native', model: 'open-dcoder-0.5b' });
  assert.doesNotMatch(pulled.tooltip, /Download a Model/);
  assert.equal(pulled.text, '$(sparkle) dfim native · open-dcoder-0.5b');
});

test('a pending or shown next edit takes the latency’s place, and the tooltip says what Tab and Escape do', () => {
  const pending = statusView({ ...ready, lastLatencyMs: 84, nextEdit: 'next edit…' });
  assert.equal(pending.text, '$(sparkle) dfim native · built-in · next edit…');
  const shown = statusView({ ...ready, nextEdit: 'next edit: line 12 (Tab)' });
  assert.equal(shown.text, '$(sparkle) dfim native · built-in · next edit: line 12 (Tab)');
  assert.match(shown.tooltip, /Tab jumps to it, Tab again applies it, Escape dismisses it/);
  assert.doesNotMatch(statusView(ready).tooltip, /Next edit/);
});
