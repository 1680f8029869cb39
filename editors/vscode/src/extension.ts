// The VS Code side of dfim: starts `dfim serve` through
// vscode-languageclient, which provides inline completions (LSP 3.18
// textDocument/inlineCompletion) and applies the server's
// workspace/applyEdit; this file adds the status bar item, the commands,
// the Show Denoising decoration and next-edit suggestions. Everything that
// can be decided without VS Code lives in settings.ts, status.ts,
// denoise.ts, nextedit.ts and protocol.ts.

import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ErrorCodes,
  LanguageClient,
  ResponseError,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';

import { DenoiseTracker, decorationText, stepSummary, type DenoiseFrame } from './denoise';
import { discoverServer } from './discover';
import { listAvailable, pickItems, pullModel } from './pull';
import { dropNoOps } from './noop';
import {
  InlineEditRequest,
  cursorAtEdit,
  ghostable,
  nextEditDebounceMs,
  nextEditHint,
  nextEditPending,
  nextEditPreview,
  pickEdit,
  wantsNextEdits,
  type InlineEdit,
} from './nextedit';
import { DenoiseStepNotification, FillHolesCommand, FillSelectionCommand, fillHolesArgs, fillSelectionArgs, isCancellation, runDfimCommand } from './protocol';
import { documentSelector, engineName, needsRestart, readSettings, serverCommand, serverSettings, type ExtensionSettings } from './settings';
import { statusView, type Status } from './status';

/**
 * How long the last denoising frame stays drawn when no inline completion
 * answer takes its place (a step stream of Fill Holes, or a completion
 * VS Code gave up on); an answer replaces it at once.
 */
const denoiseLingerMs = 1500;

let dfim: Dfim | undefined;

/** Whether file is a file this process may run. */
function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  dfim = new Dfim(context);
  await dfim.start();
}

export async function deactivate(): Promise<void> {
  await dfim?.stop();
  dfim = undefined;
}

class Dfim {
  private client: LanguageClient | undefined;
  private settings: ExtensionSettings;
  private readonly status: Status;
  private readonly item: vscode.StatusBarItem;
  private readonly output: vscode.LogOutputChannel;
  private readonly tracker = new DenoiseTracker();
  private readonly ghost: vscode.TextEditorDecorationType;
  private showDenoising = false;
  private denoiseTimer: NodeJS.Timeout | undefined;
  private drawnUri: string | undefined;
  /** The next edit shown, if any; it holds for its document's version only. */
  private nextEdit: InlineEdit | undefined;
  private nextEditTimer: NodeJS.Timeout | undefined;
  private nextEditRequest: vscode.CancellationTokenSource | undefined;
  private readonly nextEditMark: vscode.TextEditorDecorationType;
  /** A server that does not answer copilotInlineEdit is not asked again. */
  private nextEditUnsupported = false;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('dfim', { log: true });
    this.settings = this.readSettings();
    this.status = { state: 'starting', paused: false, engine: engineName(this.settings), model: this.settings.model };
    this.item = vscode.window.createStatusBarItem('dfim.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'dfim';
    this.item.command = 'dfim.editor.togglePause';
    this.ghost = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor('editorGhostText.foreground'), fontStyle: 'italic' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    // The old text struck through, the new one after it as ghost text.
    this.nextEditMark = vscode.window.createTextEditorDecorationType({
      textDecoration: 'line-through',
      backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
      after: { color: new vscode.ThemeColor('editorGhostText.foreground'), fontStyle: 'italic' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    context.subscriptions.push(
      this.output,
      this.item,
      this.ghost,
      this.nextEditMark,
      vscode.commands.registerCommand('dfim.editor.acceptNextEdit', () => this.acceptNextEdit()),
      vscode.commands.registerCommand('dfim.editor.dismissNextEdit', () => this.clearNextEdit()),
      vscode.workspace.onDidChangeTextDocument((e) => this.documentChanged(e)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.drawNextEdit()),
      vscode.commands.registerCommand('dfim.editor.togglePause', () => this.togglePause()),
      vscode.commands.registerCommand('dfim.editor.fillSelection', () => this.fillSelection()),
      vscode.commands.registerCommand('dfim.editor.fillHoles', () => this.fillHoles()),
      vscode.commands.registerCommand('dfim.editor.showDenoising', () => this.toggleDenoising()),
      vscode.commands.registerCommand('dfim.editor.restart', () => this.restart()),
      vscode.commands.registerCommand('dfim.editor.downloadModel', () => this.downloadModel()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('dfim') && this.configurationChanged()),
      vscode.workspace.onDidCloseTextDocument((d) => this.tracker.clear(d.uri.toString())),
    );
    this.render();
    this.item.show();
  }

  private readSettings(): ExtensionSettings {
    const config = vscode.workspace.getConfiguration('dfim');
    const { settings, problems } = readSettings((key) => config.get(key));
    for (const p of problems) {
      this.output.warn(p);
      void vscode.window.showWarningMessage(p);
    }
    return settings;
  }

  private findServer() {
    return discoverServer(this.settings.path, {
      env: process.env,
      home: os.homedir(),
      platform: process.platform,
      extensionDir: this.context.extensionPath ?? '',
      isExecutable,
    });
  }

  /**
   * dfim: Download a Model…: a quick pick of the models dfim knows, then
   * `dfim model pull NAME` under a cancellable progress notification, then
   * dfim.model switched to the name (the server reloads its engine).
   */
  private async downloadModel(): Promise<void> {
    const found = this.findServer();
    if (!found.found) {
      void vscode.window.showErrorMessage(found.message);
      return;
    }
    let models;
    try {
      models = await listAvailable(found.path);
    } catch (e) {
      void vscode.window.showErrorMessage(`dfim: ${(e as Error).message}`);
      return;
    }
    const pick = await vscode.window.showQuickPick(pickItems(models), {
      title: 'dfim: Download a Model',
      placeHolder: 'A diffusion coder to download from Hugging Face and use for completions',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!pick) return;
    this.output.info(`running ${found.path} model pull ${pick.name}`);
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `dfim: downloading ${pick.name}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return pullModel(found.path, pick.name, {
          signal: abort.signal,
          onLine: (line) => {
            this.output.info(line);
            progress.report({ message: line });
          },
        });
      },
    );
    if (outcome.cancelled) {
      void vscode.window.showInformationMessage(`dfim: download of ${pick.name} cancelled; run Download a Model again to resume it.`);
      return;
    }
    if (!outcome.ok) {
      void vscode.window.showErrorMessage(`dfim: ${outcome.message}`);
      return;
    }
    await vscode.workspace.getConfiguration('dfim').update('model', pick.name, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(`dfim: ${pick.name} is downloaded, and dfim.model now names it.`);
  }

  async start(): Promise<void> {
    const s = this.settings;
    const found = this.findServer();
    if (!found.found) {
      // Not started at all: one notification that says what to set,
      // instead of the language client's own failures.
      this.status.state = 'failed';
      this.status.error = found.message;
      this.render();
      this.output.error(found.message);
      const open = await vscode.window.showErrorMessage(found.message, 'Open Settings');
      if (open) void vscode.commands.executeCommand('workbench.action.openSettings', 'dfim.path');
      return;
    }
    const command = found.path;
    const { args } = serverCommand(s);
    this.output.info(`starting ${command} ${args.join(' ')} (found through ${found.via})`);
    // No `transport`: with TransportKind.stdio the client appends --stdio,
    // which `dfim serve` rejects; an Executable speaks stdio by default.
    const serverOptions: ServerOptions = { command, args };
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(s),
      initializationOptions: serverSettings(s, this.showDenoising),
      outputChannel: this.output,
      middleware: {
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          if (this.status.paused) return null;
          const start = performance.now();
          let result = await next(document, position, context, token);
          // A next edit that starts at the cursor and that ghost text can
          // show goes first: Tab then accepts it the way it accepts any
          // suggestion.
          const ne = this.nextEdit;
          if (ne && ne.textDocument.uri === document.uri.toString() && ne.textDocument.version === document.version && cursorAtEdit(ne, position)) {
            const range = new vscode.Range(ne.range.start.line, ne.range.start.character, ne.range.end.line, ne.range.end.character);
            if (ghostable(document.getText(range), ne.text)) {
              const items = Array.isArray(result) ? result : (result?.items ?? []);
              result = [new vscode.InlineCompletionItem(ne.text, range), ...items];
            }
          }
          // A suggestion that changes nothing is no suggestion (the ")"
          // over the ")" after the cursor), whatever the server sent.
          if (Array.isArray(result)) {
            result = dropNoOps(result, (r: vscode.Range) => document.getText(r));
          } else if (result) {
            result = new vscode.InlineCompletionList(dropNoOps(result.items, (r: vscode.Range) => document.getText(r)));
          }
          if (!token.isCancellationRequested) {
            this.status.lastLatencyMs = performance.now() - start;
            this.status.lastItems = Array.isArray(result) ? result.length : (result?.items.length ?? 0);
            // The steps of this completion came before its answer; the
            // answer is about to be drawn as ghost text, so the last frame
            // gives way to it instead of lingering beside it.
            if (this.drawnUri === document.uri.toString()) this.clearDenoise();
            this.render();
          }
          return result;
        },
        // Ghost text is the completion UI here; the server's completion
        // items would run the model a second time for the suggest widget.
        provideCompletionItem: () => undefined,
        workspace: {
          // The server pulls section "dfim" after each didChangeConfiguration:
          // answer with what initializationOptions carried (checked and
          // mapped, Show Denoising included), not VS Code's raw values.
          configuration: (params, token, next) =>
            params.items.some((i) => i.section === 'dfim')
              ? params.items.map((i) => (i.section === 'dfim' ? serverSettings(this.settings, this.showDenoising) : null))
              : next(params, token),
        },
      },
    };
    const client = new LanguageClient('dfim', 'dfim', serverOptions, clientOptions);
    this.client = client;
    this.status.state = 'starting';
    this.status.error = undefined;
    this.render();
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) {
        this.status.state = 'ready';
        const info = client.initializeResult?.serverInfo;
        this.status.server = info ? `${info.name} ${info.version ?? ''}`.trim() : undefined;
      } else if (e.newState === State.Stopped && this.status.state !== 'failed') {
        this.status.state = 'stopped';
      }
      this.render();
    });
    client.onNotification(DenoiseStepNotification, (p) => this.drawStep(p));
    try {
      await client.start();
    } catch (e) {
      this.status.state = 'failed';
      this.status.error = e instanceof Error ? e.message : String(e);
      this.render();
      const msg = `dfim: cannot start "${command} ${args.join(' ')}": ${this.status.error}. Set "dfim.path" to a working dfim binary, then run "dfim: Restart Server".`;
      this.output.error(msg);
      const open = await vscode.window.showErrorMessage(msg, 'Open Settings');
      if (open) void vscode.commands.executeCommand('workbench.action.openSettings', 'dfim.path');
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clearDenoise();
    this.clearNextEdit();
    if (client?.isRunning()) await client.stop();
  }

  private async restart(): Promise<void> {
    await this.stop();
    this.settings = this.readSettings();
    this.status.engine = engineName(this.settings);
    this.status.model = this.settings.model;
    await this.start();
  }

  private async configurationChanged(): Promise<void> {
    const old = this.settings;
    const next = this.readSettings();
    if (needsRestart(old, next)) {
      await this.restart();
      return;
    }
    this.settings = next;
    if (!wantsNextEdits(next.nextEdit, this.status.paused)) this.clearNextEdit();
    this.status.engine = engineName(next);
    this.status.model = next.model;
    this.render();
    await this.sendSettings();
  }

  private async sendSettings(): Promise<void> {
    if (!this.client?.isRunning()) return;
    await this.client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: serverSettings(this.settings, this.showDenoising),
    });
  }

  private togglePause(): void {
    this.status.paused = !this.status.paused;
    if (this.status.paused) this.clearNextEdit();
    this.render();
  }

  /**
   * An edit to a document the server completes: whatever next edit was
   * shown is stale now; a new one is asked for once typing stops.
   */
  private documentChanged(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const uri = e.document.uri.toString();
    if (this.nextEdit && this.nextEdit.textDocument.uri === uri) this.clearNextEdit();
    if (!wantsNextEdits(this.settings.nextEdit, this.status.paused) || this.nextEditUnsupported) return;
    if (!this.client?.isRunning() || vscode.languages.match(documentSelector(this.settings), e.document) === 0) return;
    const last = e.contentChanges[e.contentChanges.length - 1];
    const at = last.range.start;
    if (this.nextEditTimer) clearTimeout(this.nextEditTimer);
    this.nextEditRequest?.cancel();
    this.nextEditTimer = setTimeout(() => void this.requestNextEdit(e.document, at), nextEditDebounceMs);
  }

  /** Asks the server for the next edit of doc, the cursor where the user is (or where the last change was). */
  private async requestNextEdit(doc: vscode.TextDocument, changedAt: vscode.Position): Promise<void> {
    this.nextEditTimer = undefined;
    const client = this.client;
    if (!client?.isRunning() || doc.isClosed) return;
    const editor = vscode.window.activeTextEditor;
    const cursor = editor && editor.document === doc ? editor.selection.active : changedAt;
    const version = doc.version;
    const uri = doc.uri.toString();
    const cancel = new vscode.CancellationTokenSource();
    this.nextEditRequest = cancel;
    this.status.nextEdit = nextEditPending;
    this.render();
    let picked: InlineEdit | undefined;
    try {
      const res = await client.sendRequest(InlineEditRequest, { textDocument: { uri, version }, position: { line: cursor.line, character: cursor.character } }, cancel.token);
      if (cancel.token.isCancellationRequested || doc.version !== version) return;
      picked = pickEdit(res, uri, version, (r) => doc.getText(new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character)));
    } catch (e) {
      if (isCancellation(e) || cancel.token.isCancellationRequested) return;
      if (e instanceof ResponseError && e.code === ErrorCodes.MethodNotFound) {
        this.nextEditUnsupported = true;
        this.output.warn('this dfim server does not predict next edits (textDocument/copilotInlineEdit); update dfim for them');
      } else {
        this.output.warn(`next edit: ${e instanceof Error ? e.message : String(e)}`);
      }
    } finally {
      if (this.nextEditRequest === cancel) {
        this.nextEditRequest = undefined;
        if (this.status.nextEdit === nextEditPending) this.status.nextEdit = undefined;
        this.render();
      }
      cancel.dispose();
    }
    if (!picked) return;
    this.nextEdit = picked;
    void vscode.commands.executeCommand('setContext', 'dfim.nextEditShown', true).then(undefined, () => {});
    this.drawNextEdit();
    if (editor && editor.document === doc && cursorAtEdit(picked, editor.selection.active)) {
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger').then(undefined, () => {});
    }
  }

  private static range(e: InlineEdit): vscode.Range {
    return new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character);
  }

  /** Draws the shown next edit in the editors of its document, and its hint in the status bar. */
  private drawNextEdit(): void {
    const ne = this.nextEdit;
    if (!ne) return;
    const range = Dfim.range(ne);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() !== ne.textDocument.uri) continue;
      const old = editor.document.getText(range);
      const hover = new vscode.MarkdownString('**dfim** next edit: Tab jumps here, Tab again applies it, Escape dismisses it.');
      hover.appendCodeblock(ne.text, editor.document.languageId);
      editor.setDecorations(this.nextEditMark, [{ range, hoverMessage: hover, renderOptions: { after: { contentText: nextEditPreview(old, ne.text), ...(old === '' ? {} : { margin: '0 0 0 0.5em' }) } } }]);
    }
    const active = vscode.window.activeTextEditor;
    const atIt = !!active && active.document.uri.toString() === ne.textDocument.uri && cursorAtEdit(ne, active.selection.active);
    this.status.nextEdit = nextEditHint(ne, atIt);
    this.render();
  }

  private clearNextEdit(): void {
    if (this.nextEditTimer) clearTimeout(this.nextEditTimer);
    this.nextEditTimer = undefined;
    this.nextEditRequest?.cancel();
    const ne = this.nextEdit;
    this.nextEdit = undefined;
    if (!ne) return;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === ne.textDocument.uri) editor.setDecorations(this.nextEditMark, []);
    }
    void vscode.commands.executeCommand('setContext', 'dfim.nextEditShown', false).then(undefined, () => {});
    this.status.nextEdit = undefined;
    this.render();
  }

  /**
   * Tab while a next edit is shown: away from it, jump to it (opening its
   * document if it is another); at it, apply it. The applied edit is an
   * edit like any other: the next prediction follows it.
   */
  private async acceptNextEdit(): Promise<void> {
    const ne = this.nextEdit;
    if (!ne) return;
    const range = Dfim.range(ne);
    let editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.toString() !== ne.textDocument.uri) {
      editor = await vscode.window.showTextDocument(vscode.Uri.parse(ne.textDocument.uri), { selection: new vscode.Range(range.start, range.start) });
      this.drawNextEdit();
      return;
    }
    if (editor.document.version !== ne.textDocument.version) {
      this.clearNextEdit();
      return;
    }
    if (!cursorAtEdit(ne, editor.selection.active)) {
      editor.selection = new vscode.Selection(range.start, range.start);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      this.drawNextEdit();
      if (ghostable(editor.document.getText(range), ne.text)) {
        void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger').then(undefined, () => {});
      }
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(editor.document.uri, range, ne.text);
    this.clearNextEdit();
    if (!(await vscode.workspace.applyEdit(edit))) this.output.warn(`next edit at line ${range.start.line + 1} could not be applied`);
  }

  private async toggleDenoising(): Promise<void> {
    this.showDenoising = !this.showDenoising;
    if (!this.showDenoising) this.clearDenoise();
    await this.sendSettings();
    void vscode.window.showInformationMessage(
      this.showDenoising
        ? 'dfim: showing each denoising step at the cursor; type or trigger a suggestion (Alt+\\) to watch the span resolve.'
        : 'dfim: denoising steps hidden.',
    );
  }

  private drawStep(p: Parameters<DenoiseTracker['apply']>[0]): void {
    if (!this.showDenoising && !this.settings.denoiseSteps) return;
    const frame = this.tracker.apply(p);
    if (!frame) return;
    if (this.drawnUri && this.drawnUri !== frame.uri) this.clearDenoise();
    this.drawnUri = frame.uri;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === frame.uri) editor.setDecorations(this.ghost, [this.decoration(frame)]);
    }
    this.status.denoising = stepSummary(frame);
    this.render();
    if (this.denoiseTimer) clearTimeout(this.denoiseTimer);
    this.denoiseTimer = setTimeout(() => this.clearDenoise(), denoiseLingerMs);
  }

  private decoration(f: DenoiseFrame): vscode.DecorationOptions {
    const at = new vscode.Position(f.position.line, f.position.character);
    const hover = new vscode.MarkdownString(`**dfim** ${stepSummary(f)}`);
    f.holes.forEach((h, i) => hover.appendCodeblock(h, `hole ${i + 1}`));
    return { range: new vscode.Range(at, at), hoverMessage: hover, renderOptions: { after: { contentText: decorationText(f) } } };
  }

  private clearDenoise(): void {
    if (this.denoiseTimer) clearTimeout(this.denoiseTimer);
    this.denoiseTimer = undefined;
    if (this.drawnUri) {
      this.tracker.clear(this.drawnUri);
      for (const editor of vscode.window.visibleTextEditors) {
        if (editor.document.uri.toString() === this.drawnUri) editor.setDecorations(this.ghost, []);
      }
    }
    this.drawnUri = undefined;
    if (this.status.denoising) {
      this.status.denoising = undefined;
      this.render();
    }
  }

  private async fillSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) {
      void vscode.window.showInformationMessage('dfim: select the code to regenerate, then run Fill Selection again.');
      return;
    }
    const client = this.runningClient();
    if (!client) return;
    const range = client.code2ProtocolConverter.asRange(editor.selection);
    await this.runCommand(FillSelectionCommand, fillSelectionArgs(editor.document.uri.toString(), range), 'filling the selection');
  }

  private async fillHoles(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('dfim: open a file with <<fill>> markers, then run Fill Holes in File.');
      return;
    }
    if (!this.runningClient()) return;
    await this.runCommand(FillHolesCommand, fillHolesArgs(editor.document.uri.toString()), 'filling the holes');
  }

  private runningClient(): LanguageClient | undefined {
    if (this.client?.isRunning()) return this.client;
    void vscode.window.showErrorMessage('dfim: the server is not running; see the dfim output, then run "dfim: Restart Server".');
    return undefined;
  }

  /** Runs a server command; the server edits the document itself through workspace/applyEdit. */
  private async runCommand(command: string, args: unknown[], what: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `dfim: ${what}…` }, () =>
        runDfimCommand(client, command, args),
      );
    } catch (e) {
      if (isCancellation(e)) return;
      const msg = e instanceof Error ? e.message : String(e);
      this.output.error(`${command}: ${msg}`);
      void vscode.window.showErrorMessage(`dfim: ${what} failed: ${msg}`);
    }
  }

  private render(): void {
    const v = statusView(this.status);
    this.item.text = v.text;
    this.item.tooltip = v.tooltip;
    this.item.backgroundColor =
      v.level === 'normal' ? undefined : new vscode.ThemeColor(v.level === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
  }
}
