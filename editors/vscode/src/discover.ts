// Where the extension finds `dfim`: the dfim.path setting, else the first
// `dfim` on PATH, else the Go bin folder (`go install` and `go build -o
// ~/go/bin/dfim` put it there), else a binary shipped inside the extension.
// VS Code's extension host may not have the PATH of the user's terminal
// (code-server takes it from the login shell, and a desktop launcher has
// the session's), so PATH alone misses binaries users have. Pure but for
// the file checks it is given, so it is tested without VS Code.

import * as path from 'path';

/** What discovery reads: the environment, the home folder, and a check for an executable file. */
export interface DiscoverEnv {
  env: Record<string, string | undefined>;
  home: string;
  platform: string;
  /** The extension's own folder, for a binary shipped at bin/dfim; "" for none. */
  extensionDir: string;
  isExecutable(file: string): boolean;
}

export type Discovery =
  | { found: true; path: string; /** Which rule found it, for the log. */ via: string }
  | { found: false; /** The one sentence to show: where it looked and what to set. */ message: string };

/** Expands a leading "~/" (or a lone "~") of a setting to home. */
export function expandHome(p: string, home: string): string {
  return home !== '' && (p === '~' || p.startsWith('~/')) ? home + p.slice(1) : p;
}

/**
 * The Go bin folders: $GOBIN (where `go install` puts binaries), then each
 * $GOPATH's bin, or ~/go/bin when GOPATH is unset (its default).
 */
export function goBinDirs(e: DiscoverEnv): string[] {
  const sep = e.platform === 'win32' ? ';' : ':';
  const dirs: string[] = [];
  if (e.env.GOBIN) dirs.push(e.env.GOBIN);
  const gopath = (e.env.GOPATH ?? '').split(sep).filter((p) => p !== '');
  dirs.push(...gopath.map((p) => path.join(p, 'bin')));
  if (gopath.length === 0 && e.home !== '') dirs.push(path.join(e.home, 'go', 'bin'));
  return dirs;
}

/**
 * Finds the binary to start. A dfim.path that names no executable is an
 * error of its own (not a reason to start some other dfim); otherwise the
 * first executable `dfim` of PATH, the Go bin folders and the extension's
 * bin/ folder wins.
 */
export function discoverServer(setting: string, e: DiscoverEnv): Discovery {
  const exe = e.platform === 'win32' ? 'dfim.exe' : 'dfim';
  if (setting !== '') {
    const p = expandHome(setting, e.home);
    if (e.isExecutable(p)) return { found: true, path: p, via: 'dfim.path' };
    return {
      found: false,
      message: `dfim: dfim.path is "${setting}", which is not an executable file. Set "dfim.path" to the full path of the dfim binary, or clear it to use dfim from PATH or the Go bin folder.`,
    };
  }
  const sep = e.platform === 'win32' ? ';' : ':';
  for (const dir of (e.env.PATH ?? '').split(sep)) {
    if (dir === '') continue;
    const p = path.join(dir, exe);
    if (e.isExecutable(p)) return { found: true, path: p, via: 'PATH' };
  }
  const goBins = goBinDirs(e);
  for (const dir of goBins) {
    const p = path.join(dir, exe);
    if (e.isExecutable(p)) return { found: true, path: p, via: 'the Go bin folder' };
  }
  if (e.extensionDir !== '') {
    const p = path.join(e.extensionDir, 'bin', exe);
    if (e.isExecutable(p)) return { found: true, path: p, via: 'the extension' };
  }
  const where = ['PATH', ...goBins].join(', ');
  const example = path.join(goBins[goBins.length - 1] ?? path.join(e.home, 'go', 'bin'), exe);
  return {
    found: false,
    message: `dfim: no dfim binary found (looked in ${where}). Set "dfim.path" to the full path of dfim, e.g. "${example}" (build it with \`GOEXPERIMENT=simd go build -o ${example} ./cmd/dfim\` in a checkout of dfim).`,
  };
}
