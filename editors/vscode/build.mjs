// Bundles the extension into dist/extension.js (vscode stays external: VS
// Code provides it). With --tests, also bundles each test/*.test.ts into
// out/test/ for `node --test`; tests never import vscode.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

await build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: process.argv.includes('--minify') });

if (process.argv.includes('--tests')) {
  const tests = readdirSync('test').filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f}`);
  // Marking vscode external here too makes a test that imports it fail
  // loudly at run time instead of bundling something odd.
  await build({ ...common, entryPoints: tests, outdir: 'out/test', external: ['vscode'] });
}
