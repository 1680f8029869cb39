// A stand-in for the `vscode` module, enough for the bundled extension and
// vscode-languageclient to start, register their providers and exchange
// messages with a real `dfim serve`. VS Code itself cannot be downloaded on
// the build machines; this is how the extension's wiring is exercised.
// It records what the extension shows (status bar, messages, decorations)
// and applies workspace edits to in-memory documents.

type Listener<T> = (e: T) => unknown;

export class Disposable {
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  constructor(private readonly fn: () => unknown = () => {}) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  /** As vscode.Event: listener, the `this` to call it with, a list to add the disposable to. */
  event = (l: Listener<T>, thisArg?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (e) => l.call(thisArg, e);
    this.listeners.push(bound);
    const d = new Disposable(() => (this.listeners = this.listeners.filter((x) => x !== bound)));
    disposables?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static parse(s: string): Uri {
    const m = /^([a-z]+):\/\/(.*)$/.exec(s);
    return m ? new Uri(m[1], decodeURIComponent(m[2])) : new Uri('file', s);
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
  with(): Uri {
    return this;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c!, d!) : (b as Position);
  }
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

export class Selection extends Range {
  get anchor(): Position {
    return this.start;
  }
  get active(): Position {
    return this.end;
  }
}

export class TextEdit {
  constructor(
    readonly range: Range,
    readonly newText: string,
  ) {}
}

export class WorkspaceEdit {
  readonly edits: { uri: Uri; edit: TextEdit }[] = [];
  /** Edits come alone or as [edit, metadata] pairs. */
  set(uri: Uri, edits: (TextEdit | [TextEdit, unknown])[]): void {
    for (const e of edits) this.edits.push({ uri, edit: Array.isArray(e) ? e[0] : e });
  }
  replace(uri: Uri, range: Range, newText: string): void {
    this.edits.push({ uri, edit: new TextEdit(range, newText) });
  }
  insert(uri: Uri, at: Position, newText: string): void {
    this.replace(uri, new Range(at, at), newText);
  }
  delete(uri: Uri, range: Range): void {
    this.replace(uri, range, '');
  }
  get size(): number {
    return this.edits.length;
  }
}

export class InlineCompletionItem {
  constructor(
    readonly insertText: string | { value: string },
    readonly range?: Range,
    readonly command?: unknown,
  ) {}
}

export class InlineCompletionList {
  constructor(readonly items: InlineCompletionItem[]) {}
}

export class CompletionItem {
  constructor(readonly label: string) {}
}
export class CompletionList {
  constructor(readonly items: CompletionItem[] = []) {}
}

export class CancellationError extends Error {}

export class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  value = '';
  constructor(v = '') {
    this.value = v;
  }
  appendCodeblock(code: string, lang = ''): this {
    this.value += `\n\`\`\`${lang}\n${code}\n\`\`\`\n`;
    return this;
  }
  appendText(t: string): this {
    this.value += t;
    return this;
  }
  appendMarkdown(t: string): this {
    this.value += t;
    return this;
  }
}

// Classes vscode-languageclient subclasses or builds but these tests never inspect.
export class CallHierarchyItem {}
export class CodeLens {}
export class DocumentLink {}
export class InlayHint {}
export class SymbolInformation {}
export class TypeHierarchyItem {}
export class CodeAction {}
export class Diagnostic {}
export class SnippetString {
  constructor(readonly value = '') {}
}
export class Location {}
export class Hover {}

export class TabInputText {}
export class TabInputTextDiff {}
export class TabInputNotebook {}
export class TabInputCustom {}

export const StatusBarAlignment = { Left: 1, Right: 2 };
export const TextEditorRevealType = { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 };
export const DecorationRangeBehavior = { OpenOpen: 0, ClosedClosed: 1, OpenClosed: 2, ClosedOpen: 3 };
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
export const InlineCompletionTriggerKind = { Invoke: 0, Automatic: 1 };
export const CompletionTriggerKind = { Invoke: 0, TriggerCharacter: 1, TriggerForIncompleteCompletions: 2 };
export const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 };
export const EndOfLine = { LF: 1, CRLF: 2 };
export const LogLevel = { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 };
export const version = '1.91.0';

/** An in-memory text document. */
export class FakeDocument {
  version = 1;
  isClosed = false;
  isDirty = false;
  isUntitled = false;
  eol = EndOfLine.LF;
  constructor(
    readonly uri: Uri,
    readonly languageId: string,
    private text: string,
  ) {}
  get fileName(): string {
    return this.uri.fsPath;
  }
  get lineCount(): number {
    return this.text.split('\n').length;
  }
  /** The whole text, or the text a range covers. */
  getText(r?: Range): string {
    return r ? this.text.slice(this.offsetAt(r.start), this.offsetAt(r.end)) : this.text;
  }
  offsetAt(p: Position): number {
    const lines = this.text.split('\n');
    let off = 0;
    for (let i = 0; i < p.line; i++) off += lines[i].length + 1;
    return off + p.character;
  }
  /** Applies edits (non-overlapping) at once, as VS Code would. */
  apply(edits: TextEdit[]): void {
    const sorted = [...edits].sort((a, b) => this.offsetAt(b.range.start) - this.offsetAt(a.range.start));
    let text = this.text;
    for (const e of sorted) text = text.slice(0, this.offsetAt(e.range.start)) + e.newText + text.slice(this.offsetAt(e.range.end));
    this.text = text;
    this.version++;
  }
}

/**
 * Any other name of the vscode API: a value that can be called, constructed,
 * subclassed and read from (enums such as CodeActionKind.Empty), so that
 * vscode-languageclient loads; the tests never go through these paths.
 */
export function chameleon(name: string): unknown {
  const target = function () {} as unknown as object;
  return new Proxy(target, {
    get(_t, prop) {
      if (prop === 'prototype') return {};
      if (prop === Symbol.toPrimitive) return () => name;
      if (prop === 'then') return undefined; // not a promise
      return chameleon(`${name}.${String(prop)}`);
    },
    apply: () => chameleon(`${name}()`),
    construct: () => ({}),
  });
}

const noop = () => new Disposable();
/** A namespace whose unknown onX events and registerX/createX functions are no-ops. */
function lenient<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop in t) return (t as Record<string | symbol, unknown>)[prop];
      if (typeof prop === 'string' && /^(on|register)/.test(prop)) return noop;
      return undefined;
    },
  });
}

/** What the test reads back. */
export const recorded = {
  statusItems: [] as { text: string; tooltip: unknown; show(): void }[],
  messages: [] as string[],
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  inlineProviders: [] as { selector: unknown; provider: { provideInlineCompletionItems: (...a: unknown[]) => unknown } }[],
  decorations: [] as { uri: string; options: unknown[] }[],
  config: {} as Record<string, unknown>,
  /** What the server wrote to stderr, and the client's log lines. */
  log: [] as string[],
};

const textDocuments: FakeDocument[] = [];
const openEmitter = new EventEmitter<FakeDocument>();
const changeEmitter = new EventEmitter<unknown>();

export const workspace = lenient({
  textDocuments,
  notebookDocuments: [],
  workspaceFolders: undefined,
  getConfiguration: (section?: string) => ({
    get: (key: string, dflt?: unknown) => (section === 'dfim' && key in recorded.config ? recorded.config[key] : dflt),
    has: (key: string) => key in recorded.config,
    inspect: () => undefined,
    update: async () => {},
  }),
  onDidOpenTextDocument: openEmitter.event,
  onDidChangeTextDocument: changeEmitter.event,
  createFileSystemWatcher: () => lenient({ dispose() {} }),
  applyEdit: async (edit: WorkspaceEdit) => {
    const byDoc = new Map<FakeDocument, TextEdit[]>();
    for (const { uri, edit: e } of edit.edits) {
      const doc = textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (!doc) return false;
      byDoc.set(doc, [...(byDoc.get(doc) ?? []), e]);
    }
    for (const [doc, edits] of byDoc) {
      doc.apply(edits);
      changeEmitter.fire({ document: doc, contentChanges: edits.map((e) => ({ range: e.range, text: e.newText, rangeOffset: 0, rangeLength: 0 })), reason: undefined });
    }
    return true;
  },
});

/** Opens a document the way VS Code does: listed, then announced. */
export function openDocument(doc: FakeDocument): void {
  textDocuments.push(doc);
  openEmitter.fire(doc);
}

const outputChannel = () =>
  lenient({
    name: 'dfim',
    logLevel: LogLevel.Info,
    onDidChangeLogLevel: noop,
    append(m: string) {
      recorded.log.push(m);
    },
    appendLine(m: string) {
      recorded.log.push(m);
    },
    replace() {},
    clear() {},
    show() {},
    hide() {},
    dispose() {},
    trace() {},
    debug() {},
    info() {},
    warn() {},
    error(m: unknown) {
      recorded.messages.push(`log error: ${m}`);
    },
  });

export const window = lenient({
  activeTextEditor: undefined as unknown,
  visibleTextEditors: [] as unknown[],
  tabGroups: lenient({ all: [] }),
  createOutputChannel: outputChannel,
  createStatusBarItem: () => {
    const item = { text: '', tooltip: undefined as unknown, show() {}, hide() {}, dispose() {} };
    recorded.statusItems.push(item);
    return item;
  },
  createTextEditorDecorationType: () => ({ key: 'dfim', dispose() {} }),
  showErrorMessage: async (m: string) => void recorded.messages.push(`error: ${m}`),
  showWarningMessage: async (m: string) => void recorded.messages.push(`warning: ${m}`),
  showInformationMessage: async (m: string) => void recorded.messages.push(`info: ${m}`),
  withProgress: async (_o: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) =>
    task({ report() {} }, new CancellationTokenSource().token),
});

/** A visible editor whose decorations are recorded. */
export function fakeEditor(doc: FakeDocument, selection = new Selection(new Position(0, 0), new Position(0, 0))) {
  return {
    document: doc,
    selection,
    revealed: [] as Range[],
    revealRange(r: Range) {
      this.revealed.push(r);
    },
    setDecorations: (_type: unknown, options: unknown[]) => recorded.decorations.push({ uri: doc.uri.toString(), options }),
  };
}

export const languages = lenient({
  match: (selector: { language?: string; scheme?: string }[] | { language?: string }, doc: FakeDocument) => {
    const filters = Array.isArray(selector) ? selector : [selector];
    return filters.some((f) => (!f.language || f.language === doc.languageId) && (!('scheme' in f) || !f.scheme || f.scheme === doc.uri.scheme)) ? 10 : 0;
  },
  createDiagnosticCollection: () => lenient({ set() {}, delete() {}, clear() {}, dispose() {}, forEach() {} }),
  registerInlineCompletionItemProvider: (selector: unknown, provider: { provideInlineCompletionItems: (...a: unknown[]) => unknown }) => {
    recorded.inlineProviders.push({ selector, provider });
    return new Disposable();
  },
});

export const commands = lenient({
  registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
    if (recorded.commands.has(id)) throw new Error(`command '${id}' already exists`);
    recorded.commands.set(id, fn);
    return new Disposable(() => recorded.commands.delete(id));
  },
  executeCommand: async (id: string, ...args: unknown[]) => {
    const fn = recorded.commands.get(id);
    if (!fn) throw new Error(`command '${id}' not found`);
    return fn(...args);
  },
});

export const env = lenient({ language: 'en', appName: 'fake-vscode', openExternal: async () => true });
export const extensions = lenient({ all: [] });
