// The extension's client code against the real `dfim serve`: the
// initializationOptions built from its settings, the inline completion
// request vscode-languageclient sends, dfim/denoiseStep notifications fed to
// the denoising view's model, and the Fill Holes / Fill Selection commands
// with the server's workspace/applyEdit applied as VS Code would.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ResponseError, type ApplyWorkspaceEditParams, type ApplyWorkspaceEditResult, type InlineCompletionItem, type InlineCompletionList, type TextEdit } from 'vscode-languageserver-protocol';

import { DenoiseTracker, type DenoiseFrame } from '../src/denoise';
import { DenoiseStepNotification, FillHolesCommand, FillSelectionCommand, fillHolesArgs, fillSelectionArgs, runDfimCommand, type RequestSender } from '../src/protocol';
import { readSettings, serverSettings } from '../src/settings';
import { findServer, skipOrFail, startServer, withTimeout, type ServerUnderTest, type Session } from './server';

const found = findServer();
const server: ServerUnderTest | undefined = typeof found === 'string' ? undefined : found;
const skipWhy = typeof found === 'string' ? found : '';

// Long enough for the built-in model on a slow, shared CPU.
const answerMs = 120_000;

const main = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "dfim"\n\tfmt.Println(\n}\n';
const cursor = { line: 6, character: 13 }; // after "fmt.Println("

describe('dfim serve, as the VS Code extension drives it', { timeout: 10 * answerMs }, () => {
  let s: Session | undefined;
  let sender: RequestSender;
  const docs = new Map<string, TextDocument>();
  const edits: ApplyWorkspaceEditParams[] = [];
  const frames: DenoiseFrame[] = [];
  const tracker = new DenoiseTracker();

  before(async () => {
    if (!server) return;
    s = startServer(server);
    const conn = s.conn;
    sender = { sendRequest: <R>(method: string, params: unknown) => conn.sendRequest(method, params) as Promise<R> };
    conn.onNotification(DenoiseStepNotification, (p) => {
      const f = tracker.apply(p);
      if (f) frames.push(f);
    });
    // What vscode-languageclient does with workspace/applyEdit: apply it to the open document.
    conn.onRequest('workspace/applyEdit', (p: ApplyWorkspaceEditParams): ApplyWorkspaceEditResult => {
      edits.push(p);
      for (const change of p.edit.documentChanges ?? []) {
        if (!('textDocument' in change)) continue;
        const doc = docs.get(change.textDocument.uri);
        if (!doc) return { applied: false, failureReason: `not open: ${change.textDocument.uri}` };
        if (change.textDocument.version !== null && change.textDocument.version !== doc.version) {
          return { applied: false, failureReason: `version ${change.textDocument.version}, document is at ${doc.version}` };
        }
        const text = TextDocument.applyEdits(doc, change.edits as TextEdit[]);
        docs.set(doc.uri, TextDocument.create(doc.uri, doc.languageId, doc.version + 1, text));
      }
      return { applied: true };
    });
    // The engine under test goes through the settings too, as a user's dfim.engine would.
    const config: Record<string, unknown> = { invokedDebounceMs: 0, denoiseSteps: true, languages: ['go'], engine: process.env.DFIM_ENGINE };
    const { settings, problems } = readSettings((key) => config[key]);
    assert.deepEqual(problems, []);
    const init = await withTimeout(
      conn.sendRequest('initialize', {
        processId: process.pid,
        rootUri: 'file:///tmp/dfim-vscode-test',
        capabilities: {
          general: { positionEncodings: ['utf-16'] },
          window: { workDoneProgress: true },
          workspace: { applyEdit: true, workspaceEdit: { documentChanges: true } },
          textDocument: { inlineCompletion: { dynamicRegistration: false } },
        },
        clientInfo: { name: 'dfim-vscode-test' },
        initializationOptions: serverSettings(settings),
      }) as Promise<{ capabilities: Record<string, unknown>; serverInfo?: { name: string } }>,
      answerMs,
      'initialize',
    );
    assert.ok(init.capabilities.inlineCompletionProvider, 'the server offers textDocument/inlineCompletion');
    assert.equal(init.serverInfo?.name, 'dfim');
    await conn.sendNotification('initialized', {});
  });

  after(async () => {
    if (!s) return;
    const code = await s.close();
    assert.equal(code, 0, `dfim serve exited ${code}; stderr:\n${s.stderr()}`);
  });

  async function open(name: string, text: string): Promise<string> {
    const uri = `file:///tmp/dfim-vscode-test/${name}`;
    docs.set(uri, TextDocument.create(uri, 'go', 1, text));
    await s!.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'go', version: 1, text } });
    return uri;
  }

  /** Runs a command; undefined when this server does not have it yet (the test skips). */
  async function command(t: { skip(msg: string): void }, cmd: string, args: unknown[]): Promise<boolean> {
    try {
      await withTimeout(runDfimCommand(sender, cmd, args), answerMs, cmd);
      return true;
    } catch (e) {
      if (e instanceof Error && /does not run/.test(e.message)) {
        t.skip(`${e.message} (workspace/executeCommand not in this build yet)`);
        return false;
      }
      throw e;
    }
  }

  test('the settings sent as initializationOptions are all accepted', (t) => {
    if (!server) return skipOrFail(t, skipWhy);
    assert.deepEqual(s!.messages.filter((m) => /setting/.test(m)), []);
  });

  test('an inline completion after "fmt.Println(" is answered, and denoising steps stream for it', async (t) => {
    if (!server) return skipOrFail(t, skipWhy);
    const uri = await open('main.go', main);
    const result = await withTimeout(
      s!.conn.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: cursor, context: { triggerKind: 1 } }) as Promise<
        InlineCompletionList | InlineCompletionItem[] | null
      >,
      answerMs,
      'inlineCompletion',
    );
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    for (const it of items) {
      assert.equal(typeof it.insertText, 'string');
      if (it.range) assert.equal(it.range.start.line, cursor.line, `item range ${JSON.stringify(it.range)} not on the cursor line`);
    }
    const mine = frames.filter((f) => f.uri === uri);
    for (const f of mine) {
      assert.deepEqual(f.position, cursor, 'denoise steps are drawn at the cursor');
      assert.ok(f.masked <= f.total);
    }
    if (server.fake) {
      assert.equal(items[0]?.insertText, 'name)');
      assert.ok(mine.length >= 1, 'denoiseSteps=true in initializationOptions streams dfim/denoiseStep');
      assert.equal(mine[mine.length - 1].holes[0], 'name)');
    }
    t.diagnostic(`${items.length} inline item(s), first ${JSON.stringify(items[0]?.insertText)}; ${mine.length} denoise step(s)`);
  });

  test('Fill Holes in File: the server fills <<fill>> markers through workspace/applyEdit', async (t) => {
    if (!server) return skipOrFail(t, skipWhy);
    // e2efake fills with a call of e2e_fill: the file defines it, so the fill compiles.
    const text = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "dfim"\n\t<<fill>>\n\tfmt.Println(name)\n}\n\nfunc e2e_fill() {}\n';
    const uri = await open('holes.go', text);
    const shown = s!.messages.length;
    if (!(await command(t, FillHolesCommand, fillHolesArgs(uri)))) return;
    const mine = edits.filter((e) => e.edit.documentChanges?.some((c) => 'textDocument' in c && c.textDocument.uri === uri));
    const after = docs.get(uri)!.getText();
    if (mine.length > 0) {
      assert.ok(!after.includes('<<fill>>'), `markers left after the edit:\n${after}`);
      assert.ok(after.startsWith('package main\n') && after.endsWith('\tfmt.Println(name)\n}\n\nfunc e2e_fill() {}\n'), `text around the hole changed:\n${after}`);
    } else {
      // The model found no valid fill: the server must say so instead of editing.
      assert.match(s!.messages.slice(shown).join('\n'), /not filled/, 'no edit and no message saying why');
    }
    if (server.fake) assert.equal(after, text.replace('<<fill>>', 'e2e_fill()'));
    t.diagnostic(mine.length > 0 ? `filled:\n${after}` : `not filled: ${s!.messages.slice(shown).join('; ')}`);
  });

  test('Fill Selection: the selected range is regenerated, the rest kept', async (t) => {
    if (!server) return skipOrFail(t, skipWhy);
    const text = 'package main\n\nfunc add(a, b int) int {\n\treturn a - b\n}\n\nfunc e2e_fill() {}\n'; // e2efake's fill compiles
    const uri = await open('select.go', text);
    const range = { start: { line: 3, character: 1 }, end: { line: 3, character: 13 } }; // "return a - b"
    const shown = s!.messages.length;
    if (!(await command(t, FillSelectionCommand, fillSelectionArgs(uri, range)))) return;
    const after = docs.get(uri)!.getText();
    if (after !== text) {
      assert.ok(after.startsWith('package main\n\nfunc add(a, b int) int {\n\t') && after.endsWith('\n}\n\nfunc e2e_fill() {}\n'), `text outside the selection changed:\n${after}`);
    } else {
      assert.match(s!.messages.slice(shown).join('\n'), /not filled/, 'no edit and no message saying why');
    }
    if (server.fake) assert.equal(after, text.replace('return a - b', 'e2e_fill()'));
  });

  test('a command on a document the server has not opened fails with the server’s reason', async (t) => {
    if (!server) return skipOrFail(t, skipWhy);
    let err: unknown;
    try {
      if (!(await command(t, FillHolesCommand, fillHolesArgs('file:///tmp/dfim-vscode-test/never-opened.go')))) return;
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ResponseError, `want the server's error, got ${err}`);
    assert.match(err.message, /not open/);
  });
});
