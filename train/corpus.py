"""Builds the training corpus of dfim's built-in model and packs it for the
accelerator machine.

Sources: the Go tree ($(go env GOROOT)/src), the Python standard library
(/usr/lib/python3.11), and, with --packages, the sources of the Debian packages
in packages.txt (/usr/share/gocode/src, /usr/lib/python3/dist-packages).
Minus: testdata/ and test(s)/ folders, generated files, every dev and held-out
folder of ../shared/eval/RESERVED.md, dfim's own dependencies, any Go module
cache and the project itself. Deduplicated by content hash.

Output (--out DIR): tokenizer.json, manifest.json, and corpus-NNN.tar.xz chunks
(each <= --chunk-mib) holding train-NNN.npy / dev.npy: uint16 token ids, files
joined by <|file_sep|>.

    python3 train/corpus.py --out build/corpus --vocab 8192 [--packages --install]
"""
import argparse
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402

# Reserved by ../shared/eval/RESERVED.md (dev and held out), relative to the
# language root. A folder entry ends in "/".
RESERVED = {
    "go": ["archive/", "compress/", "image/", "html/", "net/http/", "encoding/json/",
           "text/template/", "regexp/", "go/printer/", "database/sql/"],
    "python": ["email/", "tomllib/", "json/", "http/", "logging/", "argparse.py",
               "csv.py", "textwrap.py"],
}
# dfim's dependencies and the project: never train on them, wherever they are.
FORBIDDEN_PARTS = ["go.uber.org/zap", "github.com/fsnotify/fsnotify", "go.lsp.dev/",
                   "github.com/smacker/go-tree-sitter", "github.com/dfim/dfim",
                   "/pkg/mod/", "/work/main/"]
SKIP_DIRS = {"testdata", "test", "tests", "__pycache__", ".git", "node_modules"}
EXT_LANG = {".go": "go", ".py": "python"}
GENERATED = re.compile(r"^// Code generated .* DO NOT EDIT\.$", re.M)
MAX_FILE_BYTES = 400_000


def go_root():
    try:
        return subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "/usr/local/go"


def package_names(list_path=None):
    list_path = list_path or os.path.join(HERE, "packages.txt")
    with open(list_path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def package_files(names):
    """Paths of the files the named Debian packages installed (dpkg -L), so
    that the corpus holds the pinned packages and nothing else a machine
    happens to have installed."""
    files = set()
    for k in range(0, len(names), 50):
        r = subprocess.run(["dpkg", "-L"] + names[k:k + 50], capture_output=True, text=True)
        files.update(l for l in r.stdout.splitlines() if l.endswith((".go", ".py")))
    return files


def default_roots(packages):
    """(language, root, reserved-applies, allowed files or None) tuples. The
    reserved folders are paths inside GOROOT/src and python3.11 only."""
    roots = [("go", os.path.join(go_root(), "src"), True, None),
             ("python", "/usr/lib/python3.11", True, None)]
    if packages:
        allowed = package_files(package_names())
        roots += [("go", "/usr/share/gocode/src", False, allowed),
                  ("python", "/usr/lib/python3/dist-packages", False, allowed)]
    return roots


def is_reserved(lang, rel):
    """rel: a path relative to the language root, '/'-separated."""
    for r in RESERVED.get(lang, ()):
        if r.endswith("/"):
            if rel.startswith(r):
                return True
        elif rel == r:
            return True
    return False


def is_forbidden(path):
    p = path.replace(os.sep, "/")
    return any(f in p for f in FORBIDDEN_PARTS)


def is_generated(text):
    # Go's convention: the line may appear anywhere before the package clause.
    head = text[:4000]
    return GENERATED.search(head) is not None


def keep_text(lang, text):
    if lang == "go" and is_generated(text):
        return False
    if "\x00" in text:
        return False
    lines = text.count("\n") + 1
    # minified or table-like files teach nothing about editing code
    if len(text) / lines > 200:
        return False
    return True


def walk_sources(roots):
    """Yields (lang, path, text) for every file the filters keep, each
    distinct content once."""
    seen = set()
    for lang_hint, root, reserved, allowed in roots:
        if not os.path.isdir(root):
            print(f"corpus: skipping missing root {root}", file=sys.stderr)
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            keep = []
            for d in sorted(dirnames):
                if d in SKIP_DIRS or d.startswith("."):
                    continue
                if reserved and is_reserved(lang_hint, rel_dir + d + "/"):
                    continue
                if is_forbidden(os.path.join(dirpath, d) + "/"):
                    continue
                keep.append(d)
            dirnames[:] = keep
            for fn in sorted(filenames):
                lang = EXT_LANG.get(os.path.splitext(fn)[1])
                if lang is None:
                    continue
                path = os.path.join(dirpath, fn)
                if reserved and is_reserved(lang, rel_dir + fn):
                    continue
                if is_forbidden(path) or os.path.islink(path):
                    continue
                if allowed is not None and path not in allowed:
                    continue
                try:
                    if os.path.getsize(path) > MAX_FILE_BYTES:
                        continue
                    with open(path, "rb") as f:
                        raw = f.read()
                    text = raw.decode("utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                h = hashlib.sha256(raw).digest()
                if h in seen or not keep_text(lang, text):
                    continue
                seen.add(h)
                yield lang, path, text


def install_packages(list_path):
    names = package_names(list_path)
    cmd = ["apt-get", "install", "-y", "--no-install-recommends"] + names
    if os.geteuid() != 0:
        cmd = ["sudo"] + cmd
    print("corpus: " + " ".join(cmd[:5]) + f" ... ({len(names)} packages)", file=sys.stderr)
    subprocess.run(cmd, check=True)


def train_tokenizer(docs, vocab, sample_bytes, seed, log):
    rng = random.Random(seed)
    order = list(range(len(docs)))
    rng.shuffle(order)
    counts = {}
    used = 0
    for i in order:
        text = docs[i][2]
        for p in bpe.pretokenize(text):
            counts[p] = counts.get(p, 0) + 1
        used += len(text)
        if used >= sample_bytes:
            break
    log(f"bpe: {used/1e6:.1f} MB sample, {len(counts)} distinct pre-tokens")
    return bpe.train_bpe(counts, vocab, log=log)


def _encode_doc(args):
    return _TOK.encode(args)


_TOK = None


def _init_worker(path):
    global _TOK
    _TOK = bpe.Tokenizer.load(path)


def encode_docs(tok_path, texts, workers):
    import multiprocessing as mp
    if workers <= 1:
        _init_worker(tok_path)
        return [_encode_doc(t) for t in texts]
    with mp.Pool(workers, initializer=_init_worker, initargs=(tok_path,)) as pool:
        return pool.map(_encode_doc, texts, chunksize=16)


def pack(out, streams, chunk_mib, log):
    """Writes each uint16 stream as .npy members into corpus-NNN.tar.xz
    chunks of at most chunk_mib (shards of 4M tokens, so a chunk closes before
    it would pass the limit)."""
    import numpy as np
    members = []
    for name, arr in streams:
        shard = 4 << 20
        for k in range(0, max(len(arr), 1), shard):
            buf = io.BytesIO()
            np.save(buf, arr[k:k + shard].astype(np.uint16))
            members.append((f"{name}-{k // shard:03d}.npy", buf.getvalue()))
    # compress each member alone to know its size, then group
    import lzma
    packed = [(n, lzma.compress(b, preset=6)) for n, b in members]
    chunks, cur, cur_size = [], [], 0
    limit = chunk_mib << 20
    for n, c in packed:
        if cur and cur_size + len(c) + 4096 > limit:
            chunks.append(cur)
            cur, cur_size = [], 0
        cur.append((n, c))
        cur_size += len(c) + 1024
    if cur:
        chunks.append(cur)
    paths = []
    for ci, chunk in enumerate(chunks):
        path = os.path.join(out, f"corpus-{ci:03d}.tar")
        with tarfile.open(path, "w") as tf:   # members are already xz-compressed
            for n, c in chunk:
                ti = tarfile.TarInfo(n + ".xz")
                ti.size = len(c)
                tf.addfile(ti, io.BytesIO(c))
        paths.append(path)
        log(f"pack: {path} {os.path.getsize(path)/2**20:.1f} MiB, {len(chunk)} members")
    return paths


def load_packed(dirpath):
    """Reads corpus-*.tar back: {"train": uint16 array, "dev": uint16 array}."""
    import lzma
    import numpy as np
    parts = {}
    for fn in sorted(os.listdir(dirpath)):
        if not (fn.startswith("corpus-") and fn.endswith(".tar")):
            continue
        with tarfile.open(os.path.join(dirpath, fn)) as tf:
            for m in tf.getmembers():
                data = lzma.decompress(tf.extractfile(m).read())
                name = m.name[:-len(".npy.xz")]
                stream, idx = name.rsplit("-", 1)
                parts.setdefault(stream, []).append((int(idx), np.load(io.BytesIO(data))))
    return {k: np.concatenate([a for _, a in sorted(v)]) for k, v in parts.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--packages", action="store_true", help="add Debian package sources")
    ap.add_argument("--install", action="store_true", help="apt-get install packages.txt first")
    ap.add_argument("--max-mb", type=float, default=0, help="stop after this much text (0: all)")
    ap.add_argument("--bpe-sample-mb", type=float, default=24)
    ap.add_argument("--dev-fraction", type=float, default=0.01)
    ap.add_argument("--chunk-mib", type=int, default=60)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tokenizer", help="reuse this tokenizer (tokenizer.json, or a model.gguf "
                    "to continue training that model) instead of training one")
    a = ap.parse_args()
    t0 = time.time()

    def log(msg):
        print(f"[{time.time()-t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

    os.makedirs(a.out, exist_ok=True)
    if a.install:
        install_packages(os.path.join(HERE, "packages.txt"))
    docs = []
    total = 0
    for lang, path, text in walk_sources(default_roots(a.packages)):
        docs.append((lang, path, text))
        total += len(text)
        if a.max_mb and total >= a.max_mb * 1e6:
            break
    log(f"corpus: {len(docs)} files, {total/1e6:.1f} MB "
        f"(go {sum(1 for d in docs if d[0]=='go')}, python {sum(1 for d in docs if d[0]=='python')})")
    tok_path = os.path.join(a.out, "tokenizer.json")
    if a.tokenizer and a.tokenizer.endswith(".gguf"):
        import gguf
        with open(a.tokenizer, "rb") as f:
            meta, _ = gguf.read(f.read())
        tok = bpe.Tokenizer.from_gguf(meta)
    elif a.tokenizer:
        tok = bpe.Tokenizer.load(a.tokenizer)
    else:
        tok = train_tokenizer(docs, a.vocab, a.bpe_sample_mb * 1e6, a.seed, log)
    tok.save(tok_path)
    log(f"tokenizer: {len(tok)} tokens -> {tok_path}")
    import numpy as np
    ids = encode_docs(tok_path, [d[2] for d in docs], a.workers)
    log("encoded")
    rng = random.Random(a.seed)
    train, dev = [], []
    for d, t in zip(docs, ids):
        (dev if rng.random() < a.dev_fraction else train).append(t + [tok.file_sep])
    flat = lambda xs: np.fromiter((i for x in xs for i in x), dtype=np.uint16)
    train_arr, dev_arr = flat(train), flat(dev)
    log(f"tokens: train {len(train_arr)/1e6:.2f}M, dev {len(dev_arr)/1e6:.2f}M, "
        f"{total/max(1,len(train_arr)+len(dev_arr)):.2f} chars/token")
    paths = pack(a.out, [("train", train_arr), ("dev", dev_arr)], a.chunk_mib, log)
    manifest = {"files": len(docs), "chars": total, "train_tokens": int(len(train_arr)),
                "dev_tokens": int(len(dev_arr)), "vocab": len(tok),
                "roots": [r[1] for r in default_roots(a.packages)],
                "chunks": [os.path.basename(p) for p in paths],
                "paths": [d[1] for d in docs]}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=0)
    log("done")


if __name__ == "__main__":
    main()
