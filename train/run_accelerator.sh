#!/usr/bin/env bash
# One-shot training of dfim's built-in model on the accelerator machine
# (Python 3.12, PyTorch 2.x with CUDA, numpy; `tokenizers` used if present).
#
#   bash train/run_accelerator.sh smoke   # ~2 minutes: a few steps of the real config, export
#   bash train/run_accelerator.sh full    # the real run (train.time_budget_s of the config)
#
# Needs the packed corpus in $CORPUS (default train/corpus: tokenizer.json +
# corpus-*.tar from `python3 train/corpus.py`, carried to the machine).
# Writes to $OUT (files <= 16 MiB each): model/model.gguf (or model.gguf.part-*
# when larger; join with cat), model/golden.json, train.log, metrics.json,
# manifest.json, ledger.jsonl (train/logs/ledger.jsonl with this run
# appended: copy it back over the repository's). Set KEEP_WEIGHTS=1 to also
# bring back the bf16 weights (weights.pt.part-*) to continue training
# elsewhere; INIT=engine/native/builtin/data/model.gguf continues the
# committed model instead of starting afresh (the corpus must use its
# tokenizer: corpus.py --tokenizer that file).
set -euo pipefail
MODE=${1:-smoke}
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-train/configs/h100.json}
CORPUS=${CORPUS:-train/corpus}
OUT=${OUT:-/tmp/dfim-out}
WORK=${WORK:-/tmp/dfim-train-$MODE}
PY=${PY:-python3}
mkdir -p "$OUT/model" "$WORK"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4} PYTHONUNBUFFERED=1

$PY - <<'PY'
import sys, torch
print("python", sys.version.split()[0], "torch", torch.__version__,
      "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
try:
    import tokenizers; print("tokenizers", tokenizers.__version__)
except ImportError:
    print("tokenizers: missing (pure-Python pre-tokenizer)")
PY
ls "$CORPUS"/tokenizer.json "$CORPUS"/corpus-*.tar >/dev/null || {
  echo "run_accelerator: no packed corpus in $CORPUS; build it with train/corpus.py and carry it" >&2; exit 1; }

args=(--config "$CONFIG" --corpus "$CORPUS" --out "$WORK")
[ "$MODE" = smoke ] && args+=(--smoke)
[ -n "${RESUME:-}" ] && args+=(--resume)
[ -n "${INIT:-}" ] && args+=(--init "$INIT")
[ -n "${TIME_BUDGET:-}" ] && args+=(--time-budget "$TIME_BUDGET")
status=0
$PY train/train.py "${args[@]}" || status=$?
cp "$WORK/train.log" "$OUT/" 2>/dev/null || true
cp "$WORK/metrics.json" "$OUT/" 2>/dev/null || true
cp "$CORPUS/manifest.json" "$OUT/" 2>/dev/null || true
cp train/logs/ledger.jsonl "$OUT/" 2>/dev/null || true
if [ -f "$WORK/ckpt.pt" ]; then
  $PY train/export.py --ckpt "$WORK/ckpt.pt" --tokenizer "$CORPUS/tokenizer.json" \
      --out "$OUT/model" --sample 2>&1 | tee "$OUT/export.log"
  if [ "$(stat -c %s "$OUT/model/model.gguf")" -gt $((16 * 1024 * 1024 - 4096)) ]; then
    (cd "$OUT/model" && split -b 15M -d model.gguf model.gguf.part- && rm model.gguf)
  fi
  if [ -n "${KEEP_WEIGHTS:-}" ]; then
    $PY - "$WORK/ckpt.pt" "$OUT/weights.pt" <<'PY'
import sys, torch
ck = torch.load(sys.argv[1], map_location="cpu")
ck["model"] = {k: v.bfloat16() for k, v in ck["model"].items()}
ck.pop("opt", None)
torch.save(ck, sys.argv[2])
PY
    (cd "$OUT" && split -b 15M -d weights.pt weights.pt.part- && rm weights.pt)
  fi
fi
ls -la "$OUT" "$OUT/model"
exit $status
