// "dfim: Download a Model…": the models `dfim model list --available`
// offers, and `dfim model pull NAME` run with its progress lines and a
// cancel that leaves the partial download for the next try (SIGINT, as
// Ctrl-C in a terminal). No vscode import, so the tests run it in Node.
import { spawn as nodeSpawn, type ChildProcess } from 'child_process';

/** One row of `dfim model list --available --json`. */
export interface AvailableModel {
  name: string;
  repo: string;
  params: string;
  size: string;
  license: string;
  quant: string;
  note?: string;
}

export type Spawn = (command: string, args: string[]) => ChildProcess;

/** What a pull ended with. */
export interface PullOutcome {
  ok: boolean;
  cancelled: boolean;
  /** The last line dfim wrote: the error on failure. */
  message: string;
}

function run(command: string, args: string[], spawn: Spawn, onLine?: (line: string) => void, signal?: AbortSignal) {
  return new Promise<{ code: number | null; stdout: string; last: string; error?: Error }>((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args);
    } catch (e) {
      resolve({ code: null, stdout: '', last: '', error: e as Error });
      return;
    }
    let stdout = '';
    let pending = '';
    let last = '';
    const lines = (chunk: string) => {
      // A progress bar on a terminal redraws with \r; a pipe gets whole lines.
      const parts = (pending + chunk).split(/[\r\n]/);
      pending = parts.pop() ?? '';
      for (const p of parts) {
        const l = p.trim();
        if (l !== '') {
          last = l;
          onLine?.(l);
        }
      }
    };
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', lines);
    const abort = () => child.kill('SIGINT');
    signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (error) => resolve({ code: null, stdout, last, error }));
    child.on('close', (code) => {
      signal?.removeEventListener('abort', abort);
      lines('\n');
      resolve({ code, stdout, last });
    });
  });
}

/** The short names dfim can pull, from the binary itself (one table, in Go). */
export async function listAvailable(command: string, spawn: Spawn = nodeSpawn): Promise<AvailableModel[]> {
  const r = await run(command, ['model', 'list', '--available', '--json'], spawn);
  if (r.error) throw new Error(`cannot run ${command}: ${r.error.message}`);
  if (r.code !== 0) throw new Error(r.last || `${command} model list exited with ${r.code}: update dfim`);
  const parsed = JSON.parse(r.stdout) as { models?: AvailableModel[] };
  return parsed.models ?? [];
}

/** Runs `dfim model pull NAME`, handing each progress line to onLine. */
export async function pullModel(
  command: string,
  name: string,
  opts: { spawn?: Spawn; onLine?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<PullOutcome> {
  const r = await run(command, ['model', 'pull', name], opts.spawn ?? nodeSpawn, opts.onLine, opts.signal);
  if (r.error) return { ok: false, cancelled: false, message: `cannot run ${command}: ${r.error.message}` };
  if (opts.signal?.aborted) return { ok: false, cancelled: true, message: r.last };
  return { ok: r.code === 0, cancelled: false, message: r.last || `dfim model pull exited with ${r.code}` };
}

/** Quick-pick rows: name, then size and parameters, then repository and licence. */
export function pickItems(models: AvailableModel[]): { label: string; description: string; detail: string; name: string }[] {
  return models.map((m) => ({
    label: m.name,
    description: `${m.size} download, ${m.params} parameters`,
    detail: `${m.repo} · licence ${m.license}${m.quant ? ` · converted to ${m.quant}` : ''}`,
    name: m.name,
  }));
}
