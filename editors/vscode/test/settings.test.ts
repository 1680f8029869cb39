import assert from 'node:assert/strict';
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
    }),
  );
  assert.deepEqual(problems, []);
  // The keys of lsp/settings.go's Settings, exactly: a renamed key would be ignored by the server.
  assert.deepEqual(serverSettings(settings), {
    engine: 'openai', model: '/m/dream.gguf', steps: 8, maxTokens: 64, debounceMs: 10, invokedDebounceMs: 5,
    languages: ['go', 'python'], logLevel: 'debug', denoiseSteps: true,
  });
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
