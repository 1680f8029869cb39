import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { defaults, documentSelector, engineName, needsRestart, readSettings, serverCommand, serverSettings } from '../src/settings';

const from = (obj: Record<string, unknown>) => (key: string) => obj[key];

test('unset settings read as the defaults, with no problems', () => {
  const { settings, problems } = readSettings(from({}));
  assert.deepEqual(settings, defaults);
  assert.deepEqual(problems, []);
});

test('every server setting reaches initializationOptions under the server’s JSON name', () => {
  const { settings, problems } = readSettings(
    from({
      engine: 'openai', model: '/m/dream.gguf', steps: 8, maxTokens: 64, debounceMs: 10, invokedDebounceMs: 5,
      languages: ['go', 'python'], logLevel: 'debug', denoiseSteps: true, path: '/opt/dfim', serverArgs: ['--threads', '2'],
      endpoint: 'http://127.0.0.1:8080', remoteModel: 'qwen2.5-coder:1.5b', timeoutMs: 30000,
      crossFileContext: false, crossFileContextBytes: 4096, minConfidence: 0.25, showThreshold: 0.3, nextEdit: true,
    }),
  );
  assert.deepEqual(problems, []);
  // The keys of lsp/settings.go's Settings, exactly: a renamed key would be ignored by the server.
  assert.deepEqual(serverSettings(settings), {
    engine: 'openai', model: '/m/dream.gguf', steps: 8, maxTokens: 64, debounceMs: 10, invokedDebounceMs: 5,
    languages: ['go', 'python'], logLevel: 'debug', denoiseSteps: true,
    endpoint: 'http://127.0.0.1:8080', remoteModel: 'qwen2.5-coder:1.5b', timeoutMs: 30000,
    crossFileContext: false, crossFileContextBytes: 4096, minConfidence: 0.25, showThreshold: 0.3, nextEdit: true,
  });
});

test('cross-file context is on by default and always sent; unset remote settings are left to the server', () => {
  const sent = serverSettings(readSettings(from({})).settings);
  assert.equal(sent.crossFileContext, true);
  assert.equal(sent.crossFileContextBytes, 1500, 'lsp.DefaultCrossFileContextBytes');
  // Absent, not "" or 0: --endpoint, --remote-model and --timeout in dfim.serverArgs still count.
  for (const key of ['endpoint', 'remoteModel', 'timeoutMs']) assert.equal(key in sent, false, key);
  const zero = serverSettings(readSettings(from({ crossFileContextBytes: 0 })).settings);
  assert.equal(zero.crossFileContextBytes, 0, '0 is a valid budget, not "unset"');
});

test('minConfidence is always sent, a fraction from 0 to 1, default 0.6', () => {
  assert.equal(serverSettings(readSettings(from({})).settings).minConfidence, 0.6, 'infill.DefaultMinConfidence');
  for (const ok of [0, 0.35, 1]) {
    const { settings, problems } = readSettings(from({ minConfidence: ok }));
    assert.deepEqual(problems, [], String(ok));
    assert.equal(serverSettings(settings).minConfidence, ok, '0 shows every suggestion, not "unset"');
  }
});

test('minConfidence outside [0, 1] or not a number falls back to 0.6 and is reported', () => {
  for (const bad of [1.5, -0.1, '0.5', Number.NaN]) {
    const { settings, problems } = readSettings(from({ minConfidence: bad }));
    assert.equal(settings.minConfidence, 0.6, String(bad));
    assert.equal(problems.length, 1, String(bad));
    assert.match(problems[0], /^dfim\.minConfidence = .* ignored: want a number from 0 to 1; using 0\.6$/);
  }
});

test('endpoint must be an http(s) URL with a host, and a rejected one is never echoed whole', () => {
  for (const ok of ['', 'http://127.0.0.1:8080', 'https://api.inceptionlabs.ai/v1', ' HTTP://localhost ']) {
    const { settings, problems } = readSettings(from({ endpoint: ok }));
    assert.deepEqual(problems, [], ok);
    assert.equal(settings.endpoint, ok.trim());
  }
  for (const bad of ['localhost:8080', 'ftp://host', 'http://', 'http:host', 'not a url', 8080]) {
    const { settings, problems } = readSettings(from({ endpoint: bad }));
    assert.equal(settings.endpoint, '', String(bad));
    assert.equal(problems.length, 1, String(bad));
    assert.match(problems[0], /^dfim\.endpoint = .* ignored: want an http:\/\/ or https:\/\/ URL/);
  }
  // A URL the server would reject for its scheme, carrying a key in its user info and query.
  const { problems } = readSettings(from({ endpoint: 'ws://me:sk-secret@host/v1?key=sk-other' }));
  assert.equal(problems.length, 1);
  assert.doesNotMatch(problems[0], /sk-secret|sk-other/);
  assert.match(problems[0], /xxxxx/);
});

test('remote and cross-file settings of the wrong type or out of range fall back and are reported', () => {
  const { settings, problems } = readSettings(
    from({ remoteModel: 7, timeoutMs: 600001, crossFileContext: 'no', crossFileContextBytes: 65537 }),
  );
  assert.equal(settings.remoteModel, '');
  assert.equal(settings.timeoutMs, 0);
  assert.equal(settings.crossFileContext, true);
  assert.equal(settings.crossFileContextBytes, 1500);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems.find((p) => p.startsWith('dfim.timeoutMs')) ?? '', /from 0 to 600000; using 0/);
  assert.match(problems.find((p) => p.startsWith('dfim.crossFileContextBytes')) ?? '', /from 0 to 65536; using 1500/);
  const edge = readSettings(from({ timeoutMs: 600000, crossFileContextBytes: 65536, remoteModel: ' m ' }));
  assert.deepEqual(edge.problems, []);
  assert.equal(edge.settings.remoteModel, 'm');
});

test('package.json declares every setting with the defaults and ranges readSettings uses', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const props: Record<string, { default: unknown; minimum?: number; maximum?: number }> = pkg.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).map((k) => k.replace(/^dfim\./, '')).sort(), Object.keys(defaults).sort());
  for (const [key, want] of Object.entries(defaults)) {
    const p = props[`dfim.${key}`];
    assert.deepEqual(p.default, want, key);
    if (typeof want === 'number') {
      // Just past each bound of the schema must be rejected, the bound itself accepted.
      assert.notEqual(p.minimum, undefined, key);
      assert.notEqual(p.maximum, undefined, key);
      assert.deepEqual(readSettings(from({ [key]: p.maximum })).problems, [], key);
      assert.equal(readSettings(from({ [key]: (p.maximum as number) + 1 })).problems.length, 1, key);
      assert.equal(readSettings(from({ [key]: (p.minimum as number) - 1 })).problems.length, 1, key);
    }
  }
});

test('values of the wrong type or out of range fall back to the default and are reported', () => {
  const { settings, problems } = readSettings(
    from({ steps: -1, maxTokens: 2.5, debounceMs: '50', logLevel: 'verbose', languages: 'go', denoiseSteps: 'yes', engine: 3 }),
  );
  assert.equal(settings.steps, 0);
  assert.equal(settings.maxTokens, 0);
  assert.equal(settings.debounceMs, 50);
  assert.equal(settings.logLevel, 'info');
  assert.deepEqual(settings.languages, []);
  assert.equal(settings.denoiseSteps, false);
  assert.equal(settings.engine, '');
  assert.equal(problems.length, 7, problems.join('\n'));
  assert.match(problems.find((p) => p.startsWith('dfim.steps')) ?? '', /whole number from 0 to 1024; using 0/);
});

test('an empty engine is left to the server; the status names what it will run', () => {
  const { settings } = readSettings(from({ engine: ' ' }));
  assert.equal(settings.engine, '');
  assert.equal('engine' in serverSettings(settings), false, 'no engine key: --engine in serverArgs or native decides');
  assert.equal(engineName(settings), 'native');
  assert.equal(engineName({ ...settings, serverArgs: ['--engine', 'openai', '--endpoint', 'http://x'] }), 'openai');
  assert.equal(engineName({ ...settings, serverArgs: ['-engine=inception'] }), 'inception');
  assert.equal(engineName({ ...settings, engine: 'native', serverArgs: ['--engine', 'openai'] }), 'native', 'the setting wins, as on the server');
});

test('list entries are trimmed and blanks dropped', () => {
  const { settings } = readSettings(from({ languages: [' go ', ''], serverArgs: ['--threads', ' 4 ', ''] }));
  assert.deepEqual(settings.languages, ['go']);
  assert.deepEqual(settings.serverArgs, ['--threads', '4']);
});

test('Show Denoising turns the step stream on whatever dfim.denoiseSteps says', () => {
  const { settings } = readSettings(from({ denoiseSteps: false }));
  assert.equal(serverSettings(settings).denoiseSteps, false);
  assert.equal(serverSettings(settings, true).denoiseSteps, true);
});

test('serverCommand runs `dfim serve` from PATH unless dfim.path says otherwise', () => {
  assert.deepEqual(serverCommand(defaults), { command: 'dfim', args: ['serve'] });
  const s = { ...defaults, path: '~/go/bin/dfim', serverArgs: ['--log-file', '/tmp/d.log'] };
  assert.deepEqual(serverCommand(s, '/home/ada'), { command: '/home/ada/go/bin/dfim', args: ['serve', '--log-file', '/tmp/d.log'] });
  assert.equal(serverCommand({ ...defaults, path: '~user/dfim' }, '/home/ada').command, '~user/dfim', 'only ~/ is expanded');
});

test('documentSelector covers every file, or the configured languages', () => {
  assert.deepEqual(documentSelector(defaults), [{ scheme: 'file' }, { scheme: 'untitled' }]);
  assert.deepEqual(documentSelector({ ...defaults, languages: ['go'] }), [
    { scheme: 'file', language: 'go' },
    { scheme: 'untitled', language: 'go' },
  ]);
});

test('only the binary, its arguments and the languages need a new server', () => {
  assert.equal(needsRestart(defaults, { ...defaults, steps: 4, engine: 'openai', denoiseSteps: true }), false);
  assert.equal(needsRestart(defaults, { ...defaults, path: '/x/dfim' }), true);
  assert.equal(needsRestart(defaults, { ...defaults, serverArgs: ['--threads', '2'] }), true);
  assert.equal(needsRestart({ ...defaults, languages: ['go'] }, { ...defaults, languages: ['go', 'c'] }), true);
});

test('setting a remote option travels in didChangeConfiguration; clearing one restarts, so the server falls back to its flags', () => {
  const remote = { ...defaults, endpoint: 'http://h:1', remoteModel: 'm', timeoutMs: 500 };
  assert.equal(needsRestart(defaults, remote), false);
  assert.equal(needsRestart(remote, { ...remote, endpoint: 'http://h:2', timeoutMs: 900 }), false);
  assert.equal(needsRestart(remote, { ...remote, endpoint: '' }), true);
  assert.equal(needsRestart(remote, { ...remote, remoteModel: '' }), true);
  assert.equal(needsRestart(remote, { ...remote, timeoutMs: 0 }), true);
  assert.equal(needsRestart({ ...defaults, engine: 'openai' }, defaults), true);
  assert.equal(needsRestart(defaults, { ...defaults, crossFileContext: false, crossFileContextBytes: 0, minConfidence: 0 }), false);
});

test('nextEdit is sent as set, or null for the server’s default (which depends on the engine and model)', () => {
  assert.equal(serverSettings(readSettings(from({})).settings).nextEdit, null);
  assert.equal(serverSettings(readSettings(from({ nextEdit: false })).settings).nextEdit, false);
  const { settings, problems } = readSettings(from({ nextEdit: 'yes' }));
  assert.equal(settings.nextEdit, null);
  assert.match(problems[0], /^dfim\.nextEdit = "yes" ignored: want true, false or null; using null$/);
});
