// From the "dfim.*" settings of VS Code to what the server is given: the
// command line that starts it and the initializationOptions (and later
// workspace/didChangeConfiguration) object. Pure: extension.ts passes in a
// getter over vscode.workspace.getConfiguration('dfim').

import { expandHome } from './discover';

/** The dfim.* settings, coerced to their types. */
export interface ExtensionSettings {
  path: string;
  serverArgs: string[];
  engine: string;
  model: string;
  steps: number;
  maxTokens: number;
  debounceMs: number;
  invokedDebounceMs: number;
  languages: string[];
  logLevel: string;
  denoiseSteps: boolean;
  endpoint: string;
  remoteModel: string;
  timeoutMs: number;
  crossFileContext: boolean;
  crossFileContextBytes: number;
  minConfidence: number;
  showThreshold: number;
  /** Next-edit suggestions: on, off, or null for the server's default (on with a remote engine or a pulled model). */
  nextEdit: boolean | null;
}

/** The settings the server reads (lsp/settings.go); JSON names are the keys it expects. */
export interface ServerSettings {
  /** Absent: the server's own default (native, or --engine in dfim.serverArgs). */
  engine?: string;
  model: string;
  steps: number;
  maxTokens: number;
  debounceMs: number;
  invokedDebounceMs: number;
  languages: string[];
  logLevel: string;
  denoiseSteps: boolean;
  /**
   * The remote engine's base URL, model name and request timeout. Absent
   * (empty, 0): the server's own (--endpoint, --remote-model, --timeout in
   * dfim.serverArgs, else the engine's default). No API key: the server
   * reads it from its environment.
   */
  endpoint?: string;
  remoteModel?: string;
  timeoutMs?: number;
  crossFileContext: boolean;
  crossFileContextBytes: number;
  /**
   * What a suggestion the user did not ask for needs to be shown: the
   * probability of its least sure token, 0 to 1 (0: every suggestion).
   * Invoked requests are not gated.
   */
  minConfidence: number;
  /**
   * What the learned show/hide filter must score a suggestion the user did
   * not ask for (its probability of being right, 0 to 1; 0: filter off)
   * before it is shown; minConfidence still applies. Invoked requests are
   * not filtered.
   */
  showThreshold: number;
  /**
   * textDocument/copilotInlineEdit answers with predictions: true, false,
   * or null for the server's default (off with the built-in model, on with
   * a remote engine or a pulled model). Always sent: null resets it.
   */
  nextEdit: boolean | null;
}

export const defaults: ExtensionSettings = {
  path: '',
  serverArgs: [],
  engine: '',
  model: '',
  steps: 0,
  maxTokens: 0,
  debounceMs: 50,
  invokedDebounceMs: 0,
  languages: [],
  logLevel: 'info',
  denoiseSteps: false,
  endpoint: '',
  remoteModel: '',
  timeoutMs: 0,
  crossFileContext: true,
  crossFileContextBytes: 1500,
  minConfidence: 0.6,
  showThreshold: 0.15,
  nextEdit: null,
};

const intRanges: Record<string, [number, number]> = {
  steps: [0, 1024],
  maxTokens: [0, 4096],
  debounceMs: [0, 5000],
  invokedDebounceMs: [0, 5000],
  timeoutMs: [0, 600000],
  crossFileContextBytes: [0, 65536],
};

/** Settings that take any number (fractions too) within the range. */
const numberRanges: Record<string, [number, number]> = {
  minConfidence: [0, 1],
  showThreshold: [0, 1],
};

const logLevels = ['debug', 'info', 'warn', 'error'];

/** The settings and, for each value that was of the wrong kind, a sentence saying which default was used instead. */
export interface ReadResult {
  settings: ExtensionSettings;
  problems: string[];
}

/**
 * Reads every dfim.* setting through get (undefined: unset). A value of the
 * wrong type or out of range falls back to the default and is reported, so
 * the user hears about a typo in settings.json instead of a silent default.
 */
export function readSettings(get: (key: string) => unknown): ReadResult {
  const s: ExtensionSettings = { ...defaults, serverArgs: [], languages: [] };
  const problems: string[] = [];
  const bad = (key: string, want: string, v: unknown) =>
    problems.push(`dfim.${key} = ${JSON.stringify(v)} ignored: want ${want}; using ${JSON.stringify((defaults as unknown as Record<string, unknown>)[key])}`);

  for (const key of ['path', 'engine', 'model', 'remoteModel'] as const) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') s[key] = v.trim();
    else bad(key, 'a string', v);
  }
  for (const key of ['steps', 'maxTokens', 'debounceMs', 'invokedDebounceMs', 'timeoutMs', 'crossFileContextBytes'] as const) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    const [lo, hi] = intRanges[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) s[key] = v;
    else bad(key, `a whole number from ${lo} to ${hi}`, v);
  }
  for (const key of ['minConfidence', 'showThreshold'] as const) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    const [lo, hi] = numberRanges[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi) s[key] = v;
    else bad(key, `a number from ${lo} to ${hi}`, v);
  }
  for (const key of ['serverArgs', 'languages'] as const) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) s[key] = v.map((x: string) => x.trim()).filter((x) => x !== '');
    else bad(key, 'a list of strings', v);
  }
  const level = get('logLevel');
  if (level !== undefined && level !== null) {
    if (typeof level === 'string' && logLevels.includes(level)) s.logLevel = level;
    else bad('logLevel', logLevels.join(', '), level);
  }
  for (const key of ['denoiseSteps', 'crossFileContext'] as const) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') s[key] = v;
    else bad(key, 'true or false', v);
  }
  const nextEdit = get('nextEdit');
  if (nextEdit !== undefined && nextEdit !== null) {
    if (typeof nextEdit === 'boolean') s.nextEdit = nextEdit;
    else bad('nextEdit', 'true, false or null', nextEdit);
  }
  const endpoint = get('endpoint');
  if (endpoint !== undefined && endpoint !== null) {
    // Checked as the server checks it (lsp/settings.go), and never echoed:
    // a URL may carry a key in its user info or query.
    const url = typeof endpoint === 'string' ? endpoint.trim() : undefined;
    if (url !== undefined && (url === '' || isHTTPURL(url))) s.endpoint = url;
    else
      problems.push(
        `dfim.endpoint = ${typeof endpoint === 'string' ? redactURL(endpoint) : '(not a string)'} ignored: want an http:// or https:// URL with a host, e.g. "http://127.0.0.1:8080", or "" for the engine's default; using ""`,
      );
  }
  return { settings: s, problems };
}

function isHTTPURL(raw: string): boolean {
  // WHATWG URL reads "http:host" as http://host/; Go's url.Parse (the server) does not.
  if (!/^https?:\/\//i.test(raw)) return false;
  try {
    const u = new URL(raw);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch {
    return false;
  }
}

/** raw with its user info and query hidden (where keys hide); a string that does not parse is hidden whole. */
export function redactURL(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username !== '' || u.password !== '') {
      u.username = 'xxxxx';
      u.password = '';
    }
    if (u.search !== '') u.search = '?xxxxx';
    return JSON.stringify(u.toString());
  } catch {
    return '(an endpoint that is not a URL)';
  }
}

/**
 * The object sent as initializationOptions and in didChangeConfiguration.
 * showDenoising (the Show Denoising command) turns the step stream on for
 * this session whatever dfim.denoiseSteps says.
 */
export function serverSettings(s: ExtensionSettings, showDenoising = false): ServerSettings {
  return {
    ...(s.engine === '' ? {} : { engine: s.engine }),
    model: s.model,
    steps: s.steps,
    maxTokens: s.maxTokens,
    debounceMs: s.debounceMs,
    invokedDebounceMs: s.invokedDebounceMs,
    languages: [...s.languages],
    logLevel: s.logLevel,
    denoiseSteps: s.denoiseSteps || showDenoising,
    ...(s.endpoint === '' ? {} : { endpoint: s.endpoint }),
    ...(s.remoteModel === '' ? {} : { remoteModel: s.remoteModel }),
    ...(s.timeoutMs === 0 ? {} : { timeoutMs: s.timeoutMs }),
    crossFileContext: s.crossFileContext,
    crossFileContextBytes: s.crossFileContextBytes,
    minConfidence: s.minConfidence,
    showThreshold: s.showThreshold,
    nextEdit: s.nextEdit,
  };
}

/** The engine the server runs: dfim.engine, else --engine in dfim.serverArgs, else native. */
export function engineName(s: ExtensionSettings): string {
  if (s.engine !== '') return s.engine;
  let name = 'native';
  s.serverArgs.forEach((a, i) => {
    const m = /^--?engine(?:=(.*))?$/.exec(a);
    if (m) name = m[1] ?? s.serverArgs[i + 1] ?? name;
  });
  return name;
}

/** The process that serves LSP over stdio. home expands a leading "~/" in dfim.path. */
export function serverCommand(s: ExtensionSettings, home = ''): { command: string; args: string[] } {
  return { command: s.path === '' ? 'dfim' : expandHome(s.path, home), args: ['serve', ...s.serverArgs] };
}

/** A document filter as vscode-languageclient takes it. */
export interface DocumentFilter {
  scheme: string;
  language?: string;
}

/** The documents the client syncs and completes: the configured languages, or every file. */
export function documentSelector(s: ExtensionSettings): DocumentFilter[] {
  const schemes = ['file', 'untitled'];
  if (s.languages.length === 0) return schemes.map((scheme) => ({ scheme }));
  return s.languages.flatMap((language) => schemes.map((scheme) => ({ scheme, language })));
}

/**
 * Whether going from a to b needs a new server process: the binary, its
 * arguments and the synced documents are fixed for a process's life; the
 * rest travels in didChangeConfiguration. Clearing a setting that
 * serverSettings leaves out when empty (engine, endpoint, remoteModel,
 * timeoutMs) restarts too: the server cannot be told to unset one, and a
 * new process falls back to its flags and defaults.
 */
export function needsRestart(a: ExtensionSettings, b: ExtensionSettings): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  const cleared = (['engine', 'endpoint', 'remoteModel'] as const).some((k) => a[k] !== '' && b[k] === '') || (a.timeoutMs !== 0 && b.timeoutMs === 0);
  return a.path !== b.path || !same(a.serverArgs, b.serverArgs) || !same(a.languages, b.languages) || cleared;
}
