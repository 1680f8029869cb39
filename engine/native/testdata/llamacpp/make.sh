#!/usr/bin/env bash
# Regenerates the llama.cpp parity data of engine/native (issue 15):
# small random-weight llada, dream and llada-moe models in llama.cpp's
# converter layout, quantized by llama.cpp's own llama-quantize, and
# llama.cpp's logits for fixed canvases. llamacpp_parity_test.go compares
# dfim against these files without needing llama.cpp.
#
# 1. Builds libllama and llama-quantize from the llama.cpp source that the
#    npm package node-llama-cpp ships as a git bundle (llama/gitRelease.bundle),
#    once, cached in $DFIM_LLAMACPP_CACHE (shared with
#    engine/remote/testdata/llamacpp/run.sh; about 10 minutes on 2 cores).
# 2. Compiles logits.cpp against libllama: one forward over a canvas, as
#    llama.cpp's diffusion CLI runs a denoising step.
# 3. write_models.py writes the float32 masters with that source's gguf-py;
#    record.py quantizes them and records the logits here (index.json says
#    which llama.cpp commit).
#
#   engine/native/testdata/llamacpp/make.sh
#   MODELS=dream-896 engine/native/testdata/llamacpp/make.sh   # only these masters
#
# Needs: npm, git, cmake, a C++ compiler, python3 with numpy.
# On Debian: apt-get install -y cmake g++ python3-numpy
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/source.sh"
threads=${THREADS:-2}
bin="$src/build/bin"

if [ ! -x "$bin/llama-quantize" ] || ! ls "$bin"/libllama.* >/dev/null 2>&1; then
	echo "make.sh: building libllama and llama-quantize from node-llama-cpp@$nlc_version's llama.cpp (cached in $cache)" >&2
	# The same configuration as run.sh, so that the two share one build.
	cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release \
		-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
		-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON >/dev/null
	cmake --build "$src/build" --target llama llama-quantize -j "$jobs"
fi
commit=$(git -C "$src" rev-parse HEAD)
echo "make.sh: llama.cpp $commit" >&2

tool="$cache/logits-$commit"
if [ ! -x "$tool" ] || [ "$here/logits.cpp" -nt "$tool" ]; then
	${CXX:-g++} -O2 -std=c++17 -I"$src/include" -I"$src/ggml/include" "$here/logits.cpp" -o "$tool" \
		-L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin"
fi

if [ -z "${MODELS:-}" ]; then # else record.py rewrites only those masters' files
	rm -f "$here"/*.gguf "$here"/*.logits "$here"/index.json
fi
MODELS=${MODELS:-} PYTHONPATH="$src/gguf-py" NLC_VERSION="$nlc_version" "$PY" "$here/record.py" "$src" "$bin/llama-quantize" "$tool" "$here" "$threads"
du -ch "$here"/*.gguf "$here"/*.logits | tail -1 >&2
