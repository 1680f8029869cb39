#!/usr/bin/env bash
# Times dfim's forward pass against llama.cpp's on the same GGUF files
# (issue 15) and prints a markdown table: for each model and canvas size,
# llama-bench's prompt processing (-p N -n 0: one forward pass over N
# tokens, bidirectional for llada, logits for the last) against `dfim bench
# model`'s full forward (every position, logits for a 16-slot hole).
#
#   engine/native/testdata/llamacpp/bench.sh [MODEL.gguf ...]
#
# Without files it times six random-weight llada models, written once with
# write_models.py --bench (f16) and llama-quantize (Q8_0, Q4_K_M) and kept
# in $MODELS: llada-38m (d=512, 10 layers, ff 1536, 38.3M parameters) and
# llada-145m (d=1024, 10 layers, ff 3072, 144.7M), vocabulary 4096.
#
# llama.cpp is the source of make.sh (node-llama-cpp@$NLC_VERSION's bundle,
# cached in $DFIM_LLAMACPP_CACHE), built once more in build-noamx with
# GGML_NATIVE=OFF and AVX-512 but no AMX: on Sapphire Rapids the native
# build's AMX path (its q8_0 and q4_K matrix products) crashes in
# llama-bench. About 10 minutes on 2 cores the first time.
#
# Each model is measured by the two programs back to back, in $ROUNDS
# rounds; each side's best round goes in the table (the FMA peak is the
# best of dfim's measurements). The machines are shared and noisy, so read
# the ratio column, not the milliseconds. llama.cpp's threads (OpenMP)
# wait for each other spinning, so where another process keeps a core busy
# -t 2 can be several times slower than -t 1; OMP_WAIT_POLICY=passive
# bench.sh (llama-bench inherits it) or THREADS=1 compares without that.
#
# Environment: DFIM (a dfim binary; default: built from this checkout with
# GOEXPERIMENT=simd), THREADS (2), REPS (llama-bench repetitions, 5),
# ROUNDS (3), CANVAS (128,256), MODELS (where the default models go), JOBS
# (2, for the build), PY (a python3 with numpy).
# Needs: npm, git, cmake, a C++ compiler, go, python3 with numpy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
. "$here/source.sh"
threads=${THREADS:-2}
reps=${REPS:-5}
rounds=${ROUNDS:-3}
canvas=${CANVAS:-128,256}
models=${MODELS:-$cache/bench-models}
build="$src/build-noamx"

if [ ! -x "$build/bin/llama-bench" ] || [ ! -x "$build/bin/llama-quantize" ]; then
	echo "bench.sh: building llama-bench and llama-quantize without AMX in $build" >&2
	nice -n 10 cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
		-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=OFF \
		-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF \
		-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
		-DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_BF16=ON \
		-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF >/dev/null
	nice -n 10 cmake --build "$build" --target llama-bench llama-quantize -j "$jobs"
fi
commit=$(git -C "$src" rev-parse HEAD)

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
	mkdir -p "$models"
	for m in llada-38m llada-145m; do
		if [ ! -f "$models/$m-f16.gguf" ]; then
			PYTHONPATH="$src/gguf-py" "$PY" "$here/write_models.py" --bench "$models" >/dev/null
		fi
		for q in Q8_0 Q4_K_M; do
			out="$models/$m-$(echo "$q" | tr 'A-Z' 'a-z').gguf"
			if [ ! -f "$out" ]; then
				"$build/bin/llama-quantize" "$models/$m-f16.gguf" "$out.part" "$q" "$threads" >/dev/null 2>&1
				mv "$out.part" "$out"
			fi
		done
		files+=("$models/$m-f16.gguf" "$models/$m-q8_0.gguf" "$models/$m-q4_k_m.gguf")
	done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dfim=${DFIM:-}
if [ -z "$dfim" ]; then
	dfim="$tmp/dfim"
	(cd "$root" && GOEXPERIMENT=simd nice -n 10 go build -o "$dfim" ./cmd/dfim)
fi

# Rounds of every model, each round the two programs back to back on one
# file; the table takes each side's best round, as the least disturbed.
for round in $(seq "$rounds"); do
	i=0
	for f in "${files[@]}"; do
		i=$((i + 1))
		echo "$f" >"$tmp/$i.name"
		# A crash or refusal leaves that side's cells empty, not the table.
		"$build/bin/llama-bench" -m "$f" -p "$canvas" -n 0 -r "$reps" -t "$threads" -o json >"$tmp/$round.$i.llama.json" 2>"$tmp/$i.llama.err" ||
			echo "bench.sh: llama-bench failed on $f: $(tail -1 "$tmp/$i.llama.err")" >&2
		"$dfim" bench model --model "$f" --canvas "$canvas" --threads "$threads" --json >"$tmp/$round.$i.dfim.json" 2>"$tmp/$i.dfim.err" ||
			echo "bench.sh: dfim bench model failed on $f: $(tail -1 "$tmp/$i.dfim.err")" >&2
	done
done

grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /CPU: /'
if [ -n "${DFIM:-}" ]; then
	which_dfim="dfim $DFIM"
else
	which_dfim="dfim $(git -C "$root" describe --always --dirty)"
fi
echo "llama.cpp $commit (node-llama-cpp@$nlc_version, no AMX${OMP_WAIT_POLICY:+, OMP_WAIT_POLICY=$OMP_WAIT_POLICY}); $which_dfim; $threads threads; best of $rounds rounds"
echo
"$PY" - "$tmp" "$i" "$rounds" <<'EOF'
import json, os, sys

tmp, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


print("| model | tokens | llama.cpp ms | dfim ms | llama.cpp/dfim | dfim GFLOP/s | dfim share of FMA peak |")
print("|---|---:|---:|---:|---:|---:|---:|")
for i in range(1, n + 1):
    name = os.path.basename(open(f"{tmp}/{i}.name").read().strip()).removesuffix(".gguf")
    llama, dfim, peak = {}, {}, 0.0  # tokens -> best ms; tokens -> best result; best peak
    for r in range(1, rounds + 1):
        for t in load(f"{tmp}/{r}.{i}.llama.json") or []:
            if t.get("n_gen") == 0:
                llama[t["n_prompt"]] = min(llama.get(t["n_prompt"], float("inf")), t["avg_ns"] / 1e6)
        rep = load(f"{tmp}/{r}.{i}.dfim.json") or {"results": []}
        peak = max(peak, rep.get("peak_gflops", 0.0))
        for d in rep["results"]:
            if d["canvas"] not in dfim or d["ms_forward"] < dfim[d["canvas"]]["ms_forward"]:
                dfim[d["canvas"]] = d
    if not llama and not dfim:
        print(f"| {name} | – | failed | failed | – | – | – |")
    for tokens in sorted(set(llama) | set(dfim)):
        l, d = llama.get(tokens), dfim.get(tokens)
        cells = [name, str(tokens),
                 f"{l:.1f}" if l else "–",
                 f"{d['ms_forward']:.1f}" if d else "–",
                 f"{l / d['ms_forward']:.2f}" if l and d else "–",
                 f"{d['gflops']:.1f}" if d else "–",
                 f"{100 * d['gflops'] / peak:.0f}% of {peak:.0f}" if d and peak else "–"]
        print("| " + " | ".join(cells) + " |")
EOF
