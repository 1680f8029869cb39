#!/usr/bin/env bash
# Runs dfim's remote engines against a real llama-server (issue 19).
#
# 1. Builds llama-server from the llama.cpp source that the npm package
#    node-llama-cpp ships as a git bundle (llama/gitRelease.bundle), once:
#    the build is cached in $DFIM_LLAMACPP_CACHE (about 5 minutes on 2 cores).
# 2. Writes two tiny random-weight qwen2 models with that source's gguf-py:
#    one with Qwen2.5-Coder's FIM tokens, one without (write_models.py).
# 3. Serves each on a free loopback port (--parallel 1, -c 1024) and runs the
#    Go tests that need them (live_test.go) with DFIM_LLAMACPP_FIM and
#    DFIM_LLAMACPP_NOFIM set.
#
#   engine/remote/testdata/llamacpp/run.sh [--record DIR]
#
# --record DIR also saves, with curl -si, the answers the replay tests use
# (testdata/llamacpp/*.http), as these servers give them, into DIR: diff
# them against the committed ones when moving to a new llama.cpp. (The
# committed ones carry real-looking fills; the random models' are noise.)
#
# Needs: npm, git, cmake, a C++ compiler, python3 with numpy, curl, go.
# On Debian: apt-get install -y cmake g++ python3-numpy curl
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
. "$repo/engine/native/testdata/llamacpp/source.sh"
record=""
if [ "${1:-}" = "--record" ]; then
	record=$(mkdir -p "$2" && cd "$2" && pwd)
fi

server="$src/build/bin/llama-server"

if [ ! -x "$server" ]; then
	echo "run.sh: building llama-server from node-llama-cpp@$nlc_version's llama.cpp (cached in $cache)" >&2
	cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release \
		-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
		-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON >/dev/null
	cmake --build "$src/build" --target llama-server -j "$jobs"
fi
echo "run.sh: llama.cpp $(git -C "$src" rev-parse --short HEAD) ($(cat "$src/llama.cpp.info.json" 2>/dev/null | tr -d '\n ' || true))" >&2

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

PYTHONPATH="$src/gguf-py" "$PY" "$here/write_models.py" "$work"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve MODEL VAR: starts llama-server on MODEL and sets VAR to its root URL
# once /health answers.
serve() {
	local port log
	port=$(free_port)
	log="$work/$(basename "$1").log"
	"$server" -m "$1" --host 127.0.0.1 --port "$port" -c 1024 --parallel 1 -t "$jobs" >"$log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do
		if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
			printf -v "$2" 'http://127.0.0.1:%s' "$port"
			return
		fi
		sleep 0.2
	done
	echo "run.sh: llama-server did not come up; its log:" >&2
	cat "$log" >&2
	exit 1
}

serve "$work/qwen2-fim.gguf" fim
serve "$work/qwen2-nofim.gguf" nofim

if [ -n "$record" ]; then
	get() { curl -sSi "$2$3" >"$record/$1.http"; }
	post() { curl -sSiN -H 'Content-Type: application/json' -d "$4" "$2$3" >"$record/$1.http"; }
	get props "$fim" /props
	get props-nofim "$nofim" /props
	get models "$fim" /v1/models
	get not-found "$fim" /no-such-route
	py='"input_prefix":"def add(a, b):\n    return ","input_suffix":"\n\nprint(add(1, 2))\n"'
	post infill-stream "$fim" /infill "{$py,\"n_predict\":4,\"stream\":true,\"temperature\":0}"
	post infill-stream-probs "$fim" /infill "{$py,\"n_predict\":4,\"stream\":true,\"temperature\":0,\"n_probs\":1}"
	post infill-nofim "$nofim" /infill "{$py,\"n_predict\":4}"
	post tokenize-qwen-absent "$nofim" /tokenize '{"content":"<|fim_prefix|><|fim_suffix|><|fim_middle|>","parse_special":true}'
	post completions-logprobs "$fim" /v1/completions '{"prompt":"def add(a, b):\n    return ","max_tokens":3,"temperature":0,"logprobs":1}'
	post completions-stream-logprobs "$fim" /v1/completions '{"prompt":"def add(a, b):\n    return ","max_tokens":3,"temperature":0,"logprobs":1,"stream":true}'
	post completions-n-refused "$fim" /v1/completions '{"prompt":"x","max_tokens":1,"n":2}'
	long=$("$PY" -c 'import json; print(json.dumps("x = x + 1\n" * 1500))')
	post infill-exceeds-context "$fim" /infill "{\"input_prefix\":$long,\"input_suffix\":\"\",\"n_predict\":4}"
	echo "run.sh: answers recorded in $record" >&2
fi

cd "$repo"
DFIM_LLAMACPP_FIM="$fim" DFIM_LLAMACPP_NOFIM="$nofim" \
	GOEXPERIMENT=simd go test -count=1 -run 'TestLive' -v ./engine/remote/
