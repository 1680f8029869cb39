#!/bin/sh
# Runs the headless Neovim test of the dfim plugin against the real
# `dfim serve`. Usage: editors/nvim/test/run.sh
#   DFIM_BIN     the dfim binary (default: dfim on PATH)
#   DFIM_ENGINE  engine for the server (default: the built-in model; e2efake
#                needs a binary built with -tags dfim_e2e_fake)
#   NVIM         the nvim binary (default: nvim on PATH)
# Skips (exit 0) without nvim, a binary or a built-in model, except under
# CI=true, where that fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
plugin=$(dirname "$here")

skip() {
	if [ "${CI:-}" = true ]; then
		echo "nvim test: $1 (required under CI=true)" >&2
		exit 1
	fi
	echo "nvim test: SKIP: $1"
	exit 0
}

nvim=${NVIM:-nvim}
command -v "$nvim" >/dev/null 2>&1 || skip "nvim not found (Debian: apt-get install neovim)"
bin=${DFIM_BIN:-$(command -v dfim || true)}
[ -n "$bin" ] && [ -x "$bin" ] || skip "no dfim binary: set DFIM_BIN or put dfim on PATH"
if [ -z "${DFIM_ENGINE:-}" ] && ! "$bin" model info >/dev/null 2>"${TMPDIR:-/tmp}/dfim-model-info.$$"; then
	if grep -q "no built-in model" "${TMPDIR:-/tmp}/dfim-model-info.$$"; then
		rm -f "${TMPDIR:-/tmp}/dfim-model-info.$$"
		skip "$bin has no built-in model yet"
	fi
fi
rm -f "${TMPDIR:-/tmp}/dfim-model-info.$$"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "nvim test: $("$nvim" --version | head -1), $bin ${DFIM_ENGINE:+--engine $DFIM_ENGINE}"
# -u NONE: no user config; the plugin comes from this checkout only.
status=0
DFIM_BIN=$bin DFIM_WORKDIR=$work timeout 600 "$nvim" --headless -u NONE -i NONE -n \
	--cmd "set runtimepath^=$plugin" -c "luafile $here/plugin_test.lua" >"$work/out" 2>"$work/err" || status=$?
cat "$work/out"
if [ -s "$work/err" ]; then
	echo "# nvim messages:"
	sed 's/^/#   /' "$work/err"
	echo
fi
if [ $status -ne 0 ] || ! grep -q '^1\.\.' "$work/out" || grep -q '^not ok' "$work/out"; then
	echo "nvim test: FAIL (exit $status)" >&2
	exit 1
fi
