// The status bar item's content: engine, model, the last completion's
// latency, and whether completions are paused. Pure; extension.ts copies the
// result into a vscode.StatusBarItem.

export type ServerState = 'starting' | 'ready' | 'stopped' | 'failed';

export interface Status {
  state: ServerState;
  paused: boolean;
  engine: string;
  /** dfim.model: a GGUF path or a pulled name, or "" for the built-in model. */
  model: string;
  /** The server's name and version from initialize, e.g. "dfim 0.3.0". */
  server?: string;
  /** Round trip of the last inline completion that was answered. */
  lastLatencyMs?: number;
  lastItems?: number;
  /** Why the server failed or stopped. */
  error?: string;
  /** While Show Denoising draws a completion, e.g. "step 3 · 12/40 masked". */
  denoising?: string;
  /** A next-edit prediction: pending ("next edit…") or shown ("next edit: line 12 (Tab)"). */
  nextEdit?: string;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** VS Code shows warning and error items with a coloured background. */
  level: 'normal' | 'warning' | 'error';
}

/** The model as a short name: the file name of a GGUF path, or "built-in". */
export function modelName(model: string): string {
  if (model === '') return 'built-in';
  const parts = model.split(/[\\/]/);
  return parts[parts.length - 1] || model;
}

export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function statusView(s: Status): StatusView {
  const what = `${s.engine} · ${modelName(s.model)}`;
  const lines = [`Engine: ${s.engine}`, `Model: ${s.model === '' ? 'built-in' : s.model}`];
  if (s.server) lines.push(`Server: ${s.server}`);
  if (s.lastLatencyMs !== undefined) {
    const items = s.lastItems === undefined ? '' : ` (${s.lastItems} suggestion${s.lastItems === 1 ? '' : 's'})`;
    lines.push(`Last completion: ${formatLatency(s.lastLatencyMs)}${items}`);
  }
  switch (s.state) {
    case 'starting':
      return { text: `$(loading~spin) dfim ${what}`, tooltip: [...lines, 'Starting the server…'].join('\n'), level: 'normal' };
    case 'failed':
    case 'stopped':
      return {
        text: '$(error) dfim',
        tooltip: [...lines, `Server ${s.state}${s.error ? ': ' + s.error : ''}`, 'Run "dfim: Restart Server" after fixing it.'].join('\n'),
        level: s.state === 'failed' ? 'error' : 'warning',
      };
  }
  if (s.paused) {
    return { text: '$(debug-pause) dfim paused', tooltip: [...lines, 'Completions paused: click to resume.'].join('\n'), level: 'warning' };
  }
  let text = `$(sparkle) dfim ${what}`;
  if (s.denoising) text += ` · ${s.denoising}`;
  else if (s.nextEdit) text += ` · ${s.nextEdit}`;
  else if (s.lastLatencyMs !== undefined) text += ` · ${formatLatency(s.lastLatencyMs)}`;
  const tip = [...lines, 'Click to pause completions.'];
  if (s.nextEdit) tip.push('Next edit: Tab jumps to it, Tab again applies it, Escape dismisses it.');
  if (s.model === '' && s.engine === 'native') {
    // The built-in model is small; say once, in the tooltip, how to get a real one.
    tip.push('The built-in model is small: "dfim: Download a Model…" fetches a stronger one (open-dcoder-0.5b, about 1.0 GB).');
  }
  return { text, tooltip: tip.join('\n'), level: 'normal' };
}
