# Sourced by make.sh and bench.sh here and by engine/remote/testdata/llamacpp/run.sh:
# the llama.cpp source they all build, the one that the npm package
# node-llama-cpp@$NLC_VERSION ships as a git bundle (llama/gitRelease.bundle),
# unpacked once into $src under $DFIM_LLAMACPP_CACHE; and $PY, a python3
# with numpy (a pyenv python3 first on PATH often has none).
PY=${PY:-python3}
if ! "$PY" -c 'import numpy' 2>/dev/null && [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
fi
nlc_version=${NLC_VERSION:-3.22.1} # node-llama-cpp; its bundle is llama.cpp de3ff81
cache=${DFIM_LLAMACPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dfim-llamacpp}
jobs=${JOBS:-2}
src="$cache/llama.cpp-node-llama-cpp-$nlc_version"
mkdir -p "$cache"
if [ ! -f "$src/llama.cpp.info.json" ]; then
	tgz="$cache/node-llama-cpp-$nlc_version.tgz"
	if [ ! -f "$tgz" ]; then
		(cd "$cache" && npm pack --silent "node-llama-cpp@$nlc_version" >/dev/null)
	fi
	rm -rf "$cache/package" "$src"
	tar -xzf "$tgz" -C "$cache" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
	git clone --quiet "$cache/package/llama/gitRelease.bundle" "$src"
	cp "$cache/package/llama/llama.cpp.info.json" "$src/"
fi
