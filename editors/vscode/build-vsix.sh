#!/bin/sh
# Builds dfim.vsix: the VS Code extension as one file, the bundle
# (dist/extension.js, vscode-languageclient included), package.json,
# README.md and LICENSE, with no native code. It is the same file on every
# platform, so build it once where Node is installed and copy it to machines
# that have only VS Code (or VSCodium, code-server), which install it with
#   code --install-extension dfim.vsix
# or Extensions → ⋯ → Install from VSIX…. editors/test.sh (and so CI's
# .ci/run) runs this script and leaves the file at editors/vscode/dfim.vsix.
#
# Usage: editors/vscode/build-vsix.sh [OUT]   (default: editors/vscode/dfim.vsix)
# Needs (to build only): Node.js 20 or later with npm; it runs `npm ci` when
# node_modules is missing or older than package-lock.json, then
# `vsce package`, which bundles with esbuild (`npm run vscode:prepublish`).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/dfim.vsix}
case $out in
/*) ;;
*) out=$PWD/$out ;;
esac
for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build-vsix.sh: $tool not found: building dfim.vsix needs Node.js 20 or later with npm (installing it does not: copy a dfim.vsix built elsewhere)" >&2
		exit 1
	fi
done
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
npx vsce package --no-dependencies -o "$out"
echo "build-vsix.sh: $out ($(wc -c <"$out") bytes)"
echo "install it: code --install-extension $out   (or Extensions → ⋯ → Install from VSIX…)"
