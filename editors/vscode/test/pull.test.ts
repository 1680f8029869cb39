// Download a Model's plumbing against a stand-in dfim (a shell script):
// the list it offers, progress lines, failure messages and cancel.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { listAvailable, pickItems, pullModel } from '../src/pull';

function fakeDfim(script: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfim-pull-'));
  const bin = path.join(dir, 'dfim');
  fs.writeFileSync(bin, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return bin;
}

test('the quick pick lists what `dfim model list --available --json` prints', async () => {
  const bin = fakeDfim(`[ "$*" = "model list --available --json" ] || exit 2
echo '{"models":[{"name":"open-dcoder-0.5b","repo":"fredzzp/open-dcoder-0.5B","params":"0.5B","size":"1.0 GB","license":"apache-2.0","quant":"q8_0"}]}'`);
  const items = pickItems(await listAvailable(bin));
  assert.deepEqual(items, [{
    label: 'open-dcoder-0.5b', description: '1.0 GB download, 0.5B parameters',
    detail: 'fredzzp/open-dcoder-0.5B · licence apache-2.0 · converted to q8_0', name: 'open-dcoder-0.5b',
  }]);
});

test('an old dfim without model list says so', async () => {
  const bin = fakeDfim('echo \'dfim: unknown command "model list"\' >&2; exit 2');
  await assert.rejects(listAvailable(bin), /unknown command "model list"/);
});

test('a pull hands on each progress line and succeeds', async () => {
  const bin = fakeDfim(`[ "$1 $2 $3" = "model pull tiny" ] || exit 2
printf 'pulling tiny\\n' >&2
printf 'model.safetensors [==  ] 50%%\\rmodel.safetensors [====] 100%%\\n' >&2
printf 'tiny\\t/cache/x.gguf\\n'`);
  const lines: string[] = [];
  const out = await pullModel(bin, 'tiny', { onLine: (l) => lines.push(l) });
  assert.deepEqual(out, { ok: true, cancelled: false, message: 'model.safetensors [====] 100%' });
  assert.deepEqual(lines, ['pulling tiny', 'model.safetensors [==  ] 50%', 'model.safetensors [====] 100%']);
});

test('a failed pull reports dfim\'s last line', async () => {
  const bin = fakeDfim('echo "dfim model pull: HF_HUB_OFFLINE is set and x was never pulled here" >&2; exit 1');
  const out = await pullModel(bin, 'x');
  assert.equal(out.ok, false);
  assert.equal(out.cancelled, false);
  assert.match(out.message, /HF_HUB_OFFLINE/);
});

test('cancel interrupts dfim with SIGINT (the partial download stays for the next try)', async () => {
  const mark = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dfim-pull-')), 'interrupted');
  const bin = fakeDfim(`trap 'touch ${mark}; exit 1' INT
echo "downloading" >&2
while :; do sleep 0.05; done`);
  const ac = new AbortController();
  const out = await pullModel(bin, 'big', { signal: ac.signal, onLine: () => ac.abort() });
  assert.deepEqual(out, { ok: false, cancelled: true, message: 'downloading' });
  assert.ok(fs.existsSync(mark), 'dfim did not get SIGINT');
});

test('a missing binary is an error, not a crash', async () => {
  const out = await pullModel('/no/such/dfim', 'x');
  assert.equal(out.ok, false);
  assert.match(out.message, /cannot run \/no\/such\/dfim/);
});
