"""Quantizes write_models.py's masters with llama-quantize, runs each file
through llama.cpp (the logits tool), and writes what the Go parity test
(engine/native/llamacpp_parity_test.go) reads:

    NAME.gguf     the model, as llama-quantize wrote it (f32: the master)
    NAME.logits   llama.cpp's logits, float32 little-endian, every position
                  of every canvas in order, n_vocab values each, unshifted
                  (row i from the hidden state at position i)
    NAME.exact.logits  the same for the file's weights dequantized to f32 by
                  llama-quantize --allow-requantize ... F32: llama.cpp's
                  graph on exactly these weights without what its kernels do
                  to the activations (f16/bf16 rounding, 8-bit quantization
                  per block); absent for f32 files, where it is NAME.logits
    index.json    {"llama_cpp": {...}, "models": [{"file", "arch", "variant",
                  "type", "quantize", "shift_logits", "n_vocab",
                  "canvases": [[ids], ...], "logits", "exact_logits"} or
                  {..., "refused"}]}

    python3 record.py LLAMA_CPP_SRC QUANTIZE LOGITS_TOOL OUTDIR THREADS

Run by make.sh, which builds the two programs. With MODELS=name,name (masters
of PLAN, e.g. MODELS=dream-896) only those are recorded, and their entries
replace or join the others in OUTDIR/index.json, which must come from the
same llama.cpp commit.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

# master -> [(output type as llama-quantize names it, --pure)]. --pure keeps
# every matrix in the one type (no Q6_K output, no mixes); the _M types are
# the mixes people download.
PLAN = {
    "llada": [("F32", True), ("F16", True), ("BF16", True), ("Q8_0", True), ("Q4_0", True)],
    "dream": [("F32", True), ("F16", True), ("BF16", True), ("Q8_0", True), ("Q4_0", True)],
    "llada-biases": [("Q8_0", True)],
    "llada-noshift": [("Q8_0", True)],
    "dream-nobias": [("Q8_0", True)],
    "llada-k": [("Q4_K_S", True), ("Q5_K_S", True), ("Q6_K", True), ("Q4_K_M", False),
                ("Q2_K", True), ("Q3_K_S", True), ("IQ4_XS", True)],
    "dream-k": [("Q4_K_S", True), ("Q5_K_S", True), ("Q6_K", True)],
    "llada-moe": [("F32", True), ("F16", True), ("BF16", True), ("Q8_0", True), ("Q4_0", True)],
    "llada-moe-k": [("Q4_K_S", True), ("Q5_K_S", True), ("Q6_K", True)],
    "llada-qknorm": [("F16", True)],
    # Rows of 896 (Qwen2.5-0.5B's width), not whole 256-blocks: the legacy
    # types pure, and the mixes people download, in which llama-quantize
    # falls back per tensor (tensor_type_fallback: q4_K -> q5_0, q5_K -> q5_1,
    # q6_K -> q8_0, q2_K/q3_K -> q4_0, iq4_xs -> iq4_nl; ffn_down's rows of
    # 256 stay K-quants).
    "dream-896": [("Q4_1", True), ("Q5_0", True), ("Q5_1", True), ("IQ4_NL", True),
                  ("Q4_K_M", False), ("Q5_K_M", False), ("Q3_K_M", False), ("Q2_K", False), ("IQ4_XS", False)],
    "dream-obias": [("F16", True)],
    "dream-qknorm": [("F16", True)],
}

# The tensor type a pure file holds, for the file name.
TYPE_NAME = {"F32": "f32", "F16": "f16", "BF16": "bf16", "Q8_0": "q8_0", "Q4_0": "q4_0",
             "Q4_K_S": "q4_k", "Q5_K_S": "q5_k", "Q6_K": "q6_k", "Q4_K_M": "q4_k_m", "Q5_K_M": "q5_k_m",
             "Q4_1": "q4_1", "Q5_0": "q5_0", "Q5_1": "q5_1", "IQ4_NL": "iq4_nl", "IQ4_XS": "iq4_xs",
             "Q3_K_M": "q3_k_m", "Q2_K": "q2_k", "Q3_K_S": "q3_k"}


def save(path, r):
    with open(path, "wb") as w:
        for c in r["canvases"]:
            for row in c["logits"]:
                w.write(struct.pack(f"<{len(row)}f", *row))


def main():
    src, quantize, tool, out, threads = sys.argv[1:6]
    commit = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    plan, kept = PLAN, []
    if os.environ.get("MODELS"):
        names = os.environ["MODELS"].split(",")
        unknown = [n for n in names if n not in PLAN]
        if unknown:
            raise SystemExit(f"record.py: MODELS names {unknown}, not masters of PLAN ({', '.join(PLAN)})")
        plan = {n: PLAN[n] for n in names}
        with open(os.path.join(out, "index.json")) as r:
            old = json.load(r)
        if old["llama_cpp"]["commit"] != commit:
            raise SystemExit(f"record.py: index.json is from llama.cpp {old['llama_cpp']['commit']}, this is {commit}: run make.sh without MODELS")
        mine = {f"{n}-{TYPE_NAME[q]}.gguf" for n in names for q, _ in PLAN[n]}
        kept = [m for m in old["models"] if m["file"] not in mine]
    with tempfile.TemporaryDirectory() as tmp:
        masters = {}
        proc = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "write_models.py"), tmp],
                              check=True, capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            d = json.loads(line)
            masters[d["name"]] = d
        models = kept
        for name, outputs in plan.items():
            m = masters[name]
            for qtype, pure in outputs:
                fname = f"{name}-{TYPE_NAME[qtype]}.gguf"
                dst = os.path.join(out, fname)
                if qtype == "F32":
                    with open(m["path"], "rb") as r, open(dst, "wb") as w:
                        w.write(r.read())
                    how = "write_models.py (float32 master)"
                else:
                    args = [quantize] + (["--pure"] if pure else []) + [m["path"], dst, qtype, "1"]
                    subprocess.run(args, check=True, capture_output=True, text=True)
                    how = "llama-quantize " + " ".join((["--pure"] if pure else []) + [qtype])
                canvases = [",".join(map(str, c)) for c in m["canvases"]]
                r = json.loads(subprocess.run([tool, dst, threads] + canvases, check=True, capture_output=True, text=True).stdout)
                entry = {"file": fname, "arch": m["arch"], "variant": m["variant"], "type": TYPE_NAME[qtype], "quantize": how}
                if not r["ok"]:
                    entry["refused"] = r["error"].strip()
                    models.append(entry)
                    print(f"record.py: {fname}: llama.cpp refuses it", file=sys.stderr)
                    continue
                lname = fname.removesuffix(".gguf") + ".logits"
                save(os.path.join(out, lname), r)
                entry.update(shift_logits=r["shift_logits"], n_vocab=r["n_vocab"],
                             canvases=[c["tokens"] for c in r["canvases"]], logits=lname)
                if qtype != "F32":
                    deq = os.path.join(tmp, "dequantized.gguf")
                    subprocess.run([quantize, "--allow-requantize", dst, deq, "F32", "1"], check=True, capture_output=True, text=True)
                    x = json.loads(subprocess.run([tool, deq, threads] + canvases, check=True, capture_output=True, text=True).stdout)
                    if not x["ok"]:
                        raise SystemExit(f"record.py: {fname} dequantized: {x['error']}")
                    entry["exact_logits"] = fname.removesuffix(".gguf") + ".exact.logits"
                    save(os.path.join(out, entry["exact_logits"]), x)
                models.append(entry)
                print(f"record.py: {fname}: {sum(len(c['tokens']) for c in r['canvases'])} positions", file=sys.stderr)
    index = {
        "llama_cpp": {"commit": commit, "source": "npm node-llama-cpp@" + os.environ.get("NLC_VERSION", "3.22.1") + " (llama/gitRelease.bundle)",
                      "tool": "logits.cpp: one llama_decode of the whole canvas, causal attention off, flash attention off (float32 keys and values), no extra buffer types (no weight repacking), otherwise default context parameters, " + threads + " threads"},
        "models": models,
    }
    with open(os.path.join(out, "index.json"), "w") as w:  # one model a line
        w.write('{"llama_cpp": ' + json.dumps(index["llama_cpp"], indent=1) + ',\n"models": [\n')
        w.write(",\n".join(json.dumps(m) for m in models))
        w.write("\n]}\n")


if __name__ == "__main__":
    main()
