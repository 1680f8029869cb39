#!/bin/sh
# Builds and tests every editor integration: the VS Code extension (npm ci,
# type check, bundle, node --test, .vsix), the Neovim plugin (headless
# nvim) and, when Emacs is installed, the Eglot setup in emacs/dfim.el.
# The end-to-end tests run against the real `dfim serve` with the default
# engine (the built-in model), then again against a build with the
# test-only e2efake engine, whose known fills let them check exact text.
#
# Usage: editors/test.sh            (from anywhere in the checkout)
#   DFIM_BIN=path   test this binary instead of building one
#   NO_FAKE=1       skip the e2efake pass
#   CI=true         missing node/npm/nvim/chromium or built-in model fail instead of skip
# Needs: go, node >= 20 with npm, nvim (Debian's 0.7 or later), unzip,
# and for the real VS Code test chromium and libkrb5-dev (it installs
# code-server, Node 24 and puppeteer-core from npm into
# ~/.cache/dfim-vscode-e2e); optional: emacs with Eglot (Debian: emacs-nox
# elpa-eglot).
set -eu
editors=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$editors")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

need() {
	if command -v "$1" >/dev/null 2>&1; then
		return 0
	fi
	if [ "${CI:-}" = true ]; then
		echo "editors/test.sh: $1 not found: $2 (required under CI=true)" >&2
		exit 1
	fi
	echo "editors/test.sh: SKIP: $1 not found: $2"
	return 1
}

step() { echo "== $*"; }

bin=${DFIM_BIN:-}
if [ -z "$bin" ]; then
	step "go build dfim"
	bin=$work/dfim
	(cd "$root" && GOEXPERIMENT=simd go build -o "$bin" ./cmd/dfim)
fi
fake=
if [ -z "${NO_FAKE:-}" ]; then
	step "go build dfim -tags dfim_e2e_fake"
	fake=$work/dfim-fake
	(cd "$root" && go build -tags dfim_e2e_fake -o "$fake" ./cmd/dfim)
fi

if need node "install Node.js 20 or later" && need npm "install npm"; then
	cd "$editors/vscode"
	step "vscode: npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	step "vscode: type check"
	npx tsc --noEmit -p .
	step "vscode: bundle and unit tests"
	node build.mjs --tests
	node --test out/test/settings.test.js out/test/status.test.js out/test/denoise.test.js out/test/discover.test.js out/test/package.test.js
	# server.test.js: the client code over vscode-jsonrpc; extension.test.js:
	# the bundle, activated against a stand-in vscode module.
	step "vscode: client and extension against dfim serve (default engine)"
	DFIM_BIN=$bin node --test out/test/server.test.js out/test/extension.test.js
	if [ -n "$fake" ]; then
		step "vscode: client and extension against dfim serve (e2efake engine)"
		DFIM_BIN=$fake DFIM_ENGINE=e2efake node --test out/test/server.test.js out/test/extension.test.js
	fi
	# What a user runs to get the extension; it leaves dfim.vsix where the
	# READMEs say (editors/vscode/dfim.vsix), and CI's run leaves it there too.
	step "vscode: editors/vscode/build-vsix.sh"
	rm -f dfim.vsix
	./build-vsix.sh
	# The .vsix carries the bundle, the manifest, README and LICENSE, and
	# nothing of the sources or node_modules.
	want='[Content_Types].xml
extension.vsixmanifest
extension/LICENSE.txt
extension/dist/extension.js
extension/package.json
extension/readme.md'
	got=$(unzip -Z1 dfim.vsix | LC_ALL=C sort)
	if [ "$got" != "$want" ]; then
		printf 'dfim.vsix holds:\n%s\nwant:\n%s\n(check .vscodeignore)\n' "$got" "$want" >&2
		exit 1
	fi
	# The READMEs name the script, the file and both ways to install it.
	for readme in "$root/README.md" "$editors/README.md" README.md; do
		for phrase in build-vsix.sh editors/vscode/dfim.vsix 'code --install-extension' 'Install from VSIX'; do
			grep -qF "$phrase" "$readme" || { echo "$readme does not say $phrase" >&2; exit 1; }
		done
	done
	# A real VS Code (code-server in headless Chromium) with dfim.vsix;
	# run.sh installs its tools once, and skips without chromium or
	# libkrb5-dev (fails under CI=true). Once with the built-in model (what
	# users get: no error notification, suggestions shown and accepted),
	# then with the e2efake engine when there is one: its fills are known,
	# so the exact text is checked.
	step "vscode: dfim.vsix in a real VS Code (code-server, headless Chromium), built-in model"
	DFIM_BIN=$bin VSIX=$PWD/dfim.vsix test/e2e/run.sh
	if [ -n "$fake" ]; then
		step "vscode: dfim.vsix in a real VS Code (code-server, headless Chromium), e2efake engine"
		DFIM_BIN=$fake DFIM_ENGINE=e2efake VSIX=$PWD/dfim.vsix test/e2e/run.sh
	fi
fi

if need nvim "Debian: apt-get install neovim"; then
	step "nvim: plugin against dfim serve (default engine)"
	DFIM_BIN=$bin "$editors/nvim/test/run.sh"
	if [ -n "$fake" ]; then
		step "nvim: plugin against dfim serve (e2efake engine)"
		DFIM_BIN=$fake DFIM_ENGINE=e2efake "$editors/nvim/test/run.sh"
	fi
fi
# Emacs is optional: run.sh skips without it, under CI too.
step "emacs: dfim.el with Eglot against dfim serve (default engine)"
DFIM_BIN=$bin "$editors/emacs/run.sh"
if [ -n "$fake" ]; then
	step "emacs: dfim.el with Eglot against dfim serve (e2efake engine)"
	DFIM_BIN=$fake DFIM_ENGINE=e2efake "$editors/emacs/run.sh"
fi
step "editors: ok"
