#!/usr/bin/env bash
# Runs every test of dfim: the Go packages (with the SIMD kernels), the race
# detector on the LSP server, a short fuzz run of the LSP framing and
# dispatch and of a batch plan line, the trainer's pure-Python parts, and the
# editor integrations. The end-to-end tests need node, npm and nvim; they skip
# without them, except under CI=true, where they fail.
set -euo pipefail
cd "$(dirname "$0")"
export GOEXPERIMENT=simd

if command -v npm >/dev/null && [ ! -d lsp/testdata/e2e/node_modules ]; then
	npm ci --prefix lsp/testdata/e2e --no-audit --no-fund --loglevel=error
fi

echo "== go vet"
go vet ./...
echo "== go test (portable kernels)"
GOEXPERIMENT= go test -count=1 ./engine/native/kernels/
echo "== go test ./..."
go test -count=1 ./...
echo "== go test -race ./lsp/"
go test -count=1 -race -short ./lsp/
echo "== go test -fuzz (5 s each; longer runs: see the comments of the targets)"
go test -run '^$' -fuzz '^FuzzStream$' -fuzztime 5s ./lsp/
go test -run '^$' -fuzz '^FuzzDispatch$' -fuzztime 5s ./lsp/
go test -run '^$' -fuzz '^FuzzPlanLine$' -fuzztime 5s ./batch/
echo "== train/ (python unittest)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -m unittest discover -s train -p 'test_*.py'
echo "== dfim fill and dfim eval on the built-in model"
bin="$(mktemp -d)/dfim"
go build -o "$bin" ./cmd/dfim
# The README's quick start: a fill that compiles in Push, or (exit 1) a plain
# "no suggestion worth showing"; anything else fails.
fill_rc=0
"$bin" fill --json examples/stack.go:11:1 2>"$(dirname "$bin")/fill.err" || fill_rc=$?
cat "$(dirname "$bin")/fill.err" >&2
if [ "$fill_rc" -ne 0 ] && ! { [ "$fill_rc" -eq 1 ] && grep -q 'no suggestion worth showing' "$(dirname "$bin")/fill.err"; }; then
	echo "test.sh: dfim fill examples/stack.go:11:1 failed (exit $fill_rc)" >&2
	exit 1
fi
"$bin" eval --tasks testdata/eval/dev.jsonl --limit 24 --out "$(dirname "$bin")/metrics.json" >/dev/null
if [ -x editors/test.sh ]; then
	echo "== editors"
	editors/test.sh
fi
