// End-to-end check of `dfim serve` with vscode-jsonrpc and
// vscode-languageserver-protocol, the libraries VS Code's LSP client is
// built on. Usage: node client.js DFIM_BINARY [serve flags...]
// Prints one JSON line with what it saw; exits non-zero on the first failure.
'use strict';
const cp = require('child_process');
const assert = require('assert');
const rpc = require('vscode-jsonrpc/node');
const lsp = require('vscode-languageserver-protocol');

const [bin, ...flags] = process.argv.slice(2);
const uri = 'file:///tmp/dfim-e2e/main.go';
// A non-BMP character before the cursor line checks UTF-16 positions.
const text = 'package main\n\nimport "fmt"\n\n// 𝄞 clef\nfunc main() {\n\tname := "dfim"\n}\n';
// dfim.fillHoles fills the marker; "𝄞" before it on its line checks UTF-16.
const holesUri = 'file:///tmp/dfim-e2e/holes.go';
const marker = '<<fill>>';
// e2efake fills with e2e_fill(): the file defines it, so its fill compiles.
const holesText = 'package main\n\nfunc f() int {\n\treturn len("𝄞") + ' + marker + '\n}\n\nfunc e2e_fill() int { return 0 }\n';

function fail(msg) {
  console.error('e2e: ' + msg);
  process.exit(1);
}

function checkRange(r, cursor, what) {
  assert.ok(r && r.start && r.end, `${what}: missing range`);
  const before = (a, b) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  assert.ok(before(r.start, r.end), `${what}: range start after end: ${JSON.stringify(r)}`);
  assert.ok(before(r.start, cursor) && before(cursor, r.end), `${what}: range ${JSON.stringify(r)} does not contain the cursor ${JSON.stringify(cursor)}`);
}

async function main() {
  const child = cp.spawn(bin, ['serve', ...flags], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  const seen = { progress: [], messages: [], configRequests: 0, applyEdits: [] };
  // The settings this client holds; it pushes them and answers pulls with them.
  const settings = { invokedDebounceMs: 0 };
  conn.onRequest(lsp.ConfigurationRequest.type, (p) => {
    seen.configRequests++;
    return p.items.map((it) => (it.section === 'dfim' ? { ...settings } : null));
  });
  conn.onRequest(lsp.ApplyWorkspaceEditRequest.type, (p) => {
    seen.applyEdits.push(p);
    return { applied: true };
  });
  conn.onRequest(lsp.WorkDoneProgressCreateRequest.type, () => null);
  conn.onNotification('$/progress', (p) => seen.progress.push(p.value.kind));
  conn.onNotification(lsp.ShowMessageNotification.type, (p) => seen.messages.push(p.message));
  conn.onError((e) => fail('connection error: ' + e));
  conn.listen();

  const init = await conn.sendRequest(lsp.InitializeRequest.type, {
    processId: process.pid,
    rootUri: 'file:///tmp/dfim-e2e',
    capabilities: {
      general: { positionEncodings: ['utf-16'] },
      window: { workDoneProgress: true },
      workspace: { configuration: true, applyEdit: true, workspaceEdit: { documentChanges: true } },
      textDocument: { completion: { completionItem: { snippetSupport: false } }, inlineCompletion: {} },
    },
    initializationOptions: { invokedDebounceMs: 0 },
  });
  const caps = init.capabilities;
  assert.strictEqual(caps.positionEncoding, 'utf-16', 'positionEncoding');
  assert.strictEqual(caps.textDocumentSync.change, lsp.TextDocumentSyncKind.Incremental, 'incremental sync');
  assert.ok(caps.completionProvider, 'completionProvider');
  assert.ok(caps.inlineCompletionProvider, 'inlineCompletionProvider');
  assert.strictEqual(init.serverInfo.name, 'dfim');
  assert.deepStrictEqual(caps.executeCommandProvider && caps.executeCommandProvider.commands,
    ['dfim.fillHoles', 'dfim.fillSelection'], 'executeCommandProvider');
  await conn.sendNotification(lsp.InitializedNotification.type, {});

  await conn.sendNotification(lsp.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'go', version: 1, text },
  });
  // Incremental change: a new line in main's body, typed after `name := "dfim"`.
  await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 6, character: 15 }, end: { line: 6, character: 15 } }, text: '\n\tfmt.Println(' }],
  });
  const cursor = { line: 7, character: 13 };

  const list = await conn.sendRequest(lsp.CompletionRequest.type, {
    textDocument: { uri }, position: cursor, context: { triggerKind: lsp.CompletionTriggerKind.Invoked },
  });
  assert.ok(list && Array.isArray(list.items), 'completion result is a CompletionList');
  for (const it of list.items) {
    assert.strictEqual(typeof it.label, 'string');
    assert.ok(it.textEdit && typeof it.textEdit.newText === 'string', 'item has a textEdit');
    checkRange(it.textEdit.range, cursor, 'completion textEdit');
  }

  const inline = await conn.sendRequest(lsp.InlineCompletionRequest.type, {
    textDocument: { uri }, position: cursor, context: { triggerKind: lsp.InlineCompletionTriggerKind.Invoked },
  });
  assert.ok(inline && Array.isArray(inline.items), 'inline result is an InlineCompletionList');
  for (const it of inline.items) {
    assert.strictEqual(typeof it.insertText, 'string');
    checkRange(it.range, cursor, 'inline range');
  }
  // The same engine answers both requests.
  assert.strictEqual(inline.items.length > 0, list.items.length > 0, 'completion and inline completion disagree on having text');

  // Cancel: a long debounce holds the request until $/cancelRequest arrives.
  // Pushed with the values (applied at once) and pulled back by the server.
  settings.invokedDebounceMs = 5000;
  await conn.sendNotification(lsp.DidChangeConfigurationNotification.type, { settings: { dfim: { ...settings } } });
  const source = new rpc.CancellationTokenSource();
  const pending = conn.sendRequest(lsp.CompletionRequest.type, { textDocument: { uri }, position: cursor }, source.token);
  setTimeout(() => source.cancel(), 50);
  let cancelled = false;
  try {
    await pending;
  } catch (e) {
    cancelled = e instanceof rpc.ResponseError && e.code === lsp.LSPErrorCodes.RequestCancelled;
    if (!cancelled) throw e;
  }
  assert.ok(cancelled, 'cancelled request was answered RequestCancelled');
  settings.invokedDebounceMs = 0;
  await conn.sendNotification(lsp.DidChangeConfigurationNotification.type, { settings: { dfim: { ...settings } } });
  assert.ok(seen.configRequests >= 1, 'the server never asked workspace/configuration');

  // A typing storm: every keystroke's inline completion is cancelled by
  // the next one while the server parses, then quiet requests must all
  // work and dfim/stats must count no request failed inside the server
  // (cancelled parses once left every later completion failing).
  settings.debounceMs = 0;
  await conn.sendNotification(lsp.DidChangeConfigurationNotification.type, { settings: { dfim: { ...settings } } });
  const stormUri = 'file:///tmp/dfim-e2e/storm.go';
  let stormText = 'package main\n\n// typed: \n\n';
  for (let i = 0; i < 60; i++) stormText += `func f${i}(x int) int {\n\tif x > ${i} {\n\t\treturn x + 1\n\t}\n\treturn 0\n}\n\n`;
  await conn.sendNotification(lsp.DidOpenTextDocumentNotification.type, {
    textDocument: { uri: stormUri, languageId: 'go', version: 1, text: stormText },
  });
  const stormPos = { line: 2, character: '// typed: '.length };
  const storm = { sent: 0, cancelled: 0, quiet: 0, quietItems: 0 };
  const inflight = [];
  for (let i = 0; i < 200; i++) {
    await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
      textDocument: { uri: stormUri, version: i + 2 },
      contentChanges: [{ range: { start: stormPos, end: stormPos }, text: 'a' }],
    });
    stormPos.character++;
    const src = new rpc.CancellationTokenSource();
    storm.sent++;
    inflight.push(conn.sendRequest(lsp.InlineCompletionRequest.type, {
      textDocument: { uri: stormUri }, position: { ...stormPos }, context: { triggerKind: lsp.InlineCompletionTriggerKind.Automatic },
    }, src.token).catch((e) => {
      if (!(e instanceof rpc.ResponseError && e.code === lsp.LSPErrorCodes.RequestCancelled)) throw e;
      storm.cancelled++;
    }));
    await new Promise((resolve) => setTimeout(resolve, i % 5));
    src.cancel();
  }
  await Promise.all(inflight);
  for (let i = 0; i < 5; i++) {
    const r = await conn.sendRequest(lsp.InlineCompletionRequest.type, {
      textDocument: { uri: stormUri }, position: { ...stormPos }, context: { triggerKind: lsp.InlineCompletionTriggerKind.Invoked },
    });
    assert.ok(r && Array.isArray(r.items), 'quiet inline completion after the storm: ' + JSON.stringify(r));
    storm.quiet++;
    if (r.items.length > 0) storm.quietItems++;
  }
  const stats = await conn.sendRequest('dfim/stats');
  assert.strictEqual(stats.failed, 0, `${stats.failed} requests failed inside the server; last: ${stats.lastFailure}`);
  storm.failed = stats.failed;

  // dfim.fillHoles: the reply comes once the client answered workspace/applyEdit.
  await conn.sendNotification(lsp.DidOpenTextDocumentNotification.type, {
    textDocument: { uri: holesUri, languageId: 'go', version: 1, text: holesText },
  });
  const fillResult = await conn.sendRequest(lsp.ExecuteCommandRequest.type, { command: 'dfim.fillHoles', arguments: [{ uri: holesUri }] });
  assert.strictEqual(fillResult, null, 'dfim.fillHoles result');
  const lines = holesText.split('\n');
  const markerLine = lines.findIndex((l) => l.includes(marker));
  const markerRange = { start: { line: markerLine, character: lines[markerLine].indexOf(marker) } };
  markerRange.end = { line: markerLine, character: markerRange.start.character + marker.length };
  let fillText = null;
  if (seen.applyEdits.length === 0) {
    // A real model may find no valid fill: then the user is told so.
    assert.ok(seen.messages.some((m) => m.includes('holes not filled')), 'neither an edit nor a "not filled" message');
  } else {
    assert.strictEqual(seen.applyEdits.length, 1, 'one workspace/applyEdit per command');
    const dc = seen.applyEdits[0].edit.documentChanges;
    assert.ok(Array.isArray(dc) && dc.length === 1, 'documentChanges with one entry: ' + JSON.stringify(seen.applyEdits[0]));
    assert.deepStrictEqual(dc[0].textDocument, { uri: holesUri, version: 1 }, 'edit names the filled version');
    assert.strictEqual(dc[0].edits.length, 1, 'one edit for one marker');
    const e = dc[0].edits[0];
    assert.deepStrictEqual(e.range, markerRange, 'the edit replaces exactly the marker');
    assert.ok(typeof e.newText === 'string' && e.newText.length > 0, 'non-empty fill');
    fillText = e.newText;
  }
  let unknown = null;
  try {
    await conn.sendRequest(lsp.ExecuteCommandRequest.type, { command: 'dfim.nope', arguments: [] });
  } catch (e) {
    unknown = e;
  }
  assert.ok(unknown instanceof rpc.ResponseError && unknown.code === rpc.ErrorCodes.InvalidParams && /unknown command/.test(unknown.message),
    'unknown command answered InvalidParams: ' + unknown);

  const down = await conn.sendRequest(lsp.ShutdownRequest.type);
  assert.strictEqual(down, null, 'shutdown result');
  await conn.sendNotification(lsp.ExitNotification.type);
  const { code } = await exited;
  assert.strictEqual(code, 0, 'exit code after shutdown+exit');
  conn.dispose();
  console.log(JSON.stringify({ ok: true, completionItems: list.items.length, inlineItems: inline.items.length,
    progress: seen.progress, messages: seen.messages, sample: list.items[0] && list.items[0].textEdit.newText,
    configRequests: seen.configRequests, fillEdits: seen.applyEdits.length, fillText, storm }));
}

const timer = setTimeout(() => fail('timed out after 120s'), 120000);
main().then(() => clearTimeout(timer), (e) => fail(e && e.stack || String(e)));
