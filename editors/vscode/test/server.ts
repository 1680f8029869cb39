// Starts the real `dfim serve` for the end-to-end tests and speaks to it
// over vscode-jsonrpc, the transport vscode-languageclient uses.
//
// The binary is $DFIM_BIN, else `dfim` on PATH; the engine is the default
// (the built-in model) unless $DFIM_ENGINE names another (editors/test.sh
// also runs the tests with the dfim_e2e_fake build's e2efake engine, which
// fills every hole with known text). Without a binary, or with a default
// engine that has no built-in model, the tests skip, except under CI=true,
// where they fail.

import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-languageserver-protocol/node';

export interface ServerUnderTest {
  bin: string;
  /** serve flags choosing the engine, e.g. ["--engine", "e2efake"]. */
  engineArgs: string[];
  /** The e2efake engine fills every hole with "e2e_fill()", or "name)" after "(". */
  fake: boolean;
}

/** The server to test, or why there is none (the test skips with that reason). */
export function findServer(): ServerUnderTest | string {
  let bin = process.env.DFIM_BIN ?? '';
  if (bin === '') {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      const p = path.join(dir, 'dfim');
      if (dir !== '' && fs.existsSync(p)) {
        bin = p;
        break;
      }
    }
  }
  if (bin === '') return 'no dfim binary: set DFIM_BIN or put dfim on PATH (editors/test.sh builds one)';
  if (!fs.existsSync(bin)) return `DFIM_BIN=${bin} does not exist`;
  const engine = process.env.DFIM_ENGINE ?? '';
  if (engine !== '') return { bin, engineArgs: ['--engine', engine], fake: engine === 'e2efake' };
  // `dfim model info` exits 1 and says so when the build has no built-in model.
  const info = spawnSync(bin, ['model', 'info'], { encoding: 'utf8', timeout: 60_000 });
  if (info.status !== 0 && /no built-in model/.test(info.stderr + info.stdout)) {
    return `${bin} has no built-in model yet (engine/native/builtin/data/model.gguf): ${info.stderr.trim()}`;
  }
  return { bin, engineArgs: [], fake: false };
}

/** Skips the test with why, or fails it under CI=true, where every test must run. */
export function skipOrFail(t: { skip(msg: string): void }, why: string): void {
  if (process.env.CI === 'true') throw new Error(`${why} (required under CI=true)`);
  t.skip(why);
}

export interface Session {
  conn: MessageConnection;
  child: ChildProcess;
  /** window/showMessage texts, in order. */
  messages: string[];
  stderr: () => string;
  close(): Promise<number | null>;
}

/** Starts `dfim serve` and connects to it (not yet initialized). */
export function startServer(s: ServerUnderTest, extraArgs: string[] = []): Session {
  const logArgs = process.env.DFIM_TEST_LOG ? ['--log-file', process.env.DFIM_TEST_LOG, '--log-level', 'debug'] : [];
  const child = spawn(s.bin, ['serve', ...s.engineArgs, ...logArgs, ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const messages: string[] = [];
  conn.onNotification('window/showMessage', (p: { message: string }) => {
    messages.push(p.message);
  });
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onNotification('$/progress', () => {});
  conn.listen();
  return {
    conn,
    child,
    messages,
    stderr: () => stderr,
    async close() {
      try {
        await withTimeout(conn.sendRequest('shutdown'), 10_000, 'shutdown');
        await conn.sendNotification('exit');
      } catch {
        child.kill();
      }
      const code = await withTimeout(exited, 10_000, 'server exit').catch(() => {
        child.kill('SIGKILL');
        return null;
      });
      conn.dispose();
      return code;
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
