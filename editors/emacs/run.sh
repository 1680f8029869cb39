#!/bin/sh
# Runs the headless Emacs check of dfim.el (Eglot) against the real
# `dfim serve`. Usage: editors/emacs/run.sh
#   DFIM_BIN     the dfim binary (default: dfim on PATH)
#   DFIM_ENGINE  engine for the server (default: the built-in model)
# Optional everywhere (Emacs is not part of CI's required tools): without
# emacs, a binary or a built-in model it skips.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
skip() {
	echo "emacs test: SKIP: $1"
	exit 0
}
command -v emacs >/dev/null 2>&1 || skip "emacs not found (Debian: apt-get install emacs-nox elpa-eglot)"
bin=${DFIM_BIN:-$(command -v dfim || true)}
[ -n "$bin" ] && [ -x "$bin" ] || skip "no dfim binary: set DFIM_BIN or put dfim on PATH"
if [ -z "${DFIM_ENGINE:-}" ] && "$bin" model info 2>&1 >/dev/null | grep -q "no built-in model"; then
	skip "$bin has no built-in model yet"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "emacs test: $(emacs --version | head -1), $bin ${DFIM_ENGINE:+--engine $DFIM_ENGINE}"
status=0
DFIM_BIN=$bin DFIM_WORKDIR=$work timeout 600 emacs --batch -l "$here/test.el" >"$work/out" 2>"$work/err" || status=$?
cat "$work/out"
if [ $status -ne 0 ] || ! grep -q '^1\.\.' "$work/out" || grep -q '^not ok' "$work/out"; then
	echo "# emacs messages:"
	sed 's/^/#   /' "$work/err"
	echo "emacs test: FAIL (exit $status)" >&2
	exit 1
fi
