// What package.json contributes beyond commands and settings: the key that
// asks for a suggestion, and the editor defaults that keep the suggestion
// widget off the ghost text in the languages dfim validates.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8'));

test('Alt+\\ triggers an inline suggestion, as the README and Show Denoising say', () => {
  const kb = pkg.contributes.keybindings as { command: string; key: string; when: string }[];
  const alt = kb.find((k) => k.key === 'alt+\\');
  assert.ok(alt, 'no alt+\\ keybinding');
  assert.equal(alt.command, 'editor.action.inlineSuggest.trigger');
  assert.match(alt.when, /editorTextFocus/);
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  assert.match(readme, /Alt\+\\|<kbd>Alt<\/kbd>\+<kbd>\\\\?<\/kbd>/);
});

test('the languages dfim validates get inline-suggestion-friendly defaults', () => {
  const defaults = pkg.contributes.configurationDefaults as Record<string, Record<string, unknown>>;
  // The LSP ids of infill/syntax's languages with a grammar.
  for (const lang of ['go', 'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'rust', 'c', 'cpp', 'java', 'ruby', 'shellscript']) {
    assert.deepEqual(defaults[`[${lang}]`], { 'editor.inlineSuggest.suppressSuggestions': true, 'editor.wordBasedSuggestions': 'off' }, lang);
  }
});

test('Tab and Escape reach the next edit only while one is shown, and never over VS Code’s own suggestions', () => {
  const kb = pkg.contributes.keybindings as { command: string; key: string; when: string }[];
  const tab = kb.find((k) => k.command === 'dfim.editor.acceptNextEdit');
  const esc = kb.find((k) => k.command === 'dfim.editor.dismissNextEdit');
  assert.equal(tab?.key, 'tab');
  assert.equal(esc?.key, 'escape');
  for (const k of [tab!, esc!]) {
    assert.match(k.when, /dfim\.nextEditShown/);
    assert.match(k.when, /!inlineSuggestionVisible/);
    assert.match(k.when, /!suggestWidgetVisible/);
  }
  const setting = pkg.contributes.configuration.properties['dfim.nextEdit'];
  assert.equal(setting.default, null, 'the server decides by engine and model');
});
