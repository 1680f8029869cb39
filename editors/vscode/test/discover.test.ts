import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { discoverServer, goBinDirs, type DiscoverEnv } from '../src/discover';

// A tree of folders, each holding an executable dfim or not.
function tree(...withDfim: string[]): { root: string; env: (over: Partial<DiscoverEnv>) => DiscoverEnv } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dfim-discover-'));
  for (const dir of ['bin', 'gobin', 'gopath/bin', 'home/go/bin', 'ext/bin', 'plain']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  for (const dir of withDfim) fs.writeFileSync(path.join(root, dir, 'dfim'), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(root, 'plain', 'dfim'), 'not executable', { mode: 0o644 });
  const isExecutable = (f: string) => {
    try {
      return fs.statSync(f).isFile() && (fs.accessSync(f, fs.constants.X_OK), true);
    } catch {
      return false;
    }
  };
  return {
    root,
    env: (over) => ({ env: { PATH: `${root}/plain:${root}/bin` }, home: `${root}/home`, platform: 'linux', extensionDir: `${root}/ext`, isExecutable, ...over }),
  };
}

test('dfim.path first, with ~/ expanded', () => {
  const t = tree('bin', 'home/go/bin');
  assert.deepEqual(discoverServer('~/go/bin/dfim', t.env({})), { found: true, path: `${t.root}/home/go/bin/dfim`, via: 'dfim.path' });
});

test('a dfim.path that is no executable is said so, and nothing else is started', () => {
  const t = tree('bin');
  const d = discoverServer(`${t.root}/plain/dfim`, t.env({}));
  assert.equal(d.found, false);
  assert.match(!d.found ? d.message : '', /dfim\.path is ".*plain\/dfim", which is not an executable file\. Set "dfim\.path" to the full path/);
});

test('then PATH (skipping a dfim that is not executable)', () => {
  const t = tree('bin', 'home/go/bin');
  assert.deepEqual(discoverServer('', t.env({})), { found: true, path: `${t.root}/bin/dfim`, via: 'PATH' });
});

test('then the Go bin folder: $GOBIN, else $GOPATH/bin, else ~/go/bin', () => {
  const t = tree('gobin', 'gopath/bin', 'home/go/bin');
  const noPath = { PATH: '/nonexistent' };
  assert.equal((discoverServer('', t.env({ env: { ...noPath, GOBIN: `${t.root}/gobin` } })) as { path: string }).path, `${t.root}/gobin/dfim`);
  assert.equal((discoverServer('', t.env({ env: { ...noPath, GOPATH: `/nonexistent:${t.root}/gopath` } })) as { path: string }).path, `${t.root}/gopath/bin/dfim`);
  assert.deepEqual(discoverServer('', t.env({ env: noPath })), { found: true, path: `${t.root}/home/go/bin/dfim`, via: 'the Go bin folder' });
  assert.deepEqual(goBinDirs(t.env({ env: { GOPATH: '/a:/b' } })), ['/a/bin', '/b/bin'], 'GOPATH set: ~/go is not the default');
});

test('then a binary shipped in the extension', () => {
  const t = tree('ext/bin');
  assert.deepEqual(discoverServer('', t.env({})), { found: true, path: `${t.root}/ext/bin/dfim`, via: 'the extension' });
});

test('none: one message naming where it looked and exactly what to set', () => {
  const t = tree();
  const d = discoverServer('', t.env({ env: { PATH: `${t.root}/bin`, GOBIN: `${t.root}/gobin` } }));
  assert.equal(d.found, false);
  const msg = !d.found ? d.message : '';
  assert.ok(msg.startsWith(`dfim: no dfim binary found (looked in PATH, ${t.root}/gobin, ${t.root}/home/go/bin). Set "dfim.path" to the full path of dfim, e.g. "${t.root}/home/go/bin/dfim"`), msg);
});

test('Windows: dfim.exe, ";" between folders', () => {
  const d = discoverServer('', { env: { PATH: 'C:\\bin;D:\\tools' }, home: '', platform: 'win32', extensionDir: '', isExecutable: (f) => f.endsWith('tools/dfim.exe') || f.endsWith('tools\\dfim.exe') });
  assert.equal(d.found, true);
});
