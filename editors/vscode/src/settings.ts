// From the "dfim.*" settings of VS Code to what the server is given: the
// command line that starts it and the initializationOptions (and later
// workspace/didChangeConfiguration) object. Pure: extension.ts passes in a
// getter over vscode.workspace.getConfiguration('dfim').

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
};

const intRanges: Record<string, [number, number]> = {
  steps: [0, 1024],
  maxTokens: [0, 4096],
  debounceMs: [0, 5000],
  invokedDebounceMs: [0, 5000],
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

  for (const key of ['path', 'engine', 'model'] as const) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') s[key] = v.trim();
    else bad(key, 'a string', v);
  }
  for (const key of ['steps', 'maxTokens', 'debounceMs', 'invokedDebounceMs'] as const) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    const [lo, hi] = intRanges[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) s[key] = v;
    else bad(key, `a whole number from ${lo} to ${hi}`, v);
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
  const denoise = get('denoiseSteps');
  if (denoise !== undefined && denoise !== null) {
    if (typeof denoise === 'boolean') s.denoiseSteps = denoise;
    else bad('denoiseSteps', 'true or false', denoise);
  }
  return { settings: s, problems };
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
  let command = s.path === '' ? 'dfim' : s.path;
  if (home !== '' && (command === '~' || command.startsWith('~/'))) command = home + command.slice(1);
  return { command, args: ['serve', ...s.serverArgs] };
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
 * rest travels in didChangeConfiguration.
 */
export function needsRestart(a: ExtensionSettings, b: ExtensionSettings): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.path !== b.path || !same(a.serverArgs, b.serverArgs) || !same(a.languages, b.languages);
}
