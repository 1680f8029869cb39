"""Byte-level BPE for dfim's built-in model: the qwen2 pre-tokenizer, a
trainer, and an encoder/decoder whose vocabulary goes into the GGUF as
tokenizer.ggml.model = "gpt2", tokenizer.ggml.pre = "qwen2".

Runs on /usr/bin/python3 (with python3-regex) and on the accelerator machine
(no `regex` module: the pre-tokenizer then comes from `tokenizers`, or from the
pure-Python scanner below, which follows the same pattern by hand).
"""
import heapq
import re
import json
import unicodedata

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                 r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

EOS = "<|endoftext|>"   # end of text; also the pad that fills a hole's surplus
MASK = "<|mask|>"
FILE_SEP = "<|file_sep|>"
SPECIALS = (EOS, MASK, FILE_SEP)


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {c: b for b, c in BYTE_ENC.items()}


# ---- pre-tokenizer ---------------------------------------------------------

def _is_l(c):
    return unicodedata.category(c)[0] == "L"


def _is_n(c):
    return unicodedata.category(c)[0] == "N"


def _is_s(c):
    return c.isspace()


def pretokenize_pure(s):
    """The qwen2 pattern, scanned by hand (no regex module needed)."""
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        j = 0
        # (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if c == "'" and i + 1 < n:
            two = s[i + 1:i + 3].lower()
            if s[i + 1].lower() in "stmd":
                j = i + 2
            elif two in ("re", "ve", "ll"):
                j = i + 3
        # [^\r\n\p{L}\p{N}]?\p{L}+
        if not j:
            if _is_l(c):
                j = i + 1
            elif c not in "\r\n" and not _is_n(c) and i + 1 < n and _is_l(s[i + 1]):
                j = i + 2
            if j:
                while j < n and _is_l(s[j]):
                    j += 1
        # \p{N}
        if not j and _is_n(c):
            j = i + 1
        #  ?[^\s\p{L}\p{N}]+[\r\n]*
        if not j:
            k = i + 1 if c == " " else i
            m = k
            while m < n and not _is_s(s[m]) and not _is_l(s[m]) and not _is_n(s[m]):
                m += 1
            if m > k:
                while m < n and s[m] in "\r\n":
                    m += 1
                j = m
        if not j:
            # whitespace run s[i:k]
            k = i
            while k < n and _is_s(s[k]):
                k += 1
            last_nl = -1
            for m in range(i, k):
                if s[m] in "\r\n":
                    last_nl = m
            if last_nl >= 0:            # \s*[\r\n]+
                j = last_nl + 1
            elif k == n:                # \s+(?!\S) at the end
                j = k
            elif k - i >= 2:            # \s+(?!\S): leave one for the next word
                j = k - 1
            else:                       # \s+
                j = k
        out.append(s[i:j])
        i = j
    return out


_CHECK = "func (s *T) Go() {\n\tx := 12 // it's ü\r\n\n  y  \n}  "


def _make_pretokenizer():
    """The fastest available implementation of the qwen2 pattern that agrees
    with the hand-written scanner on a check string."""
    want = pretokenize_pure(_CHECK)
    try:
        import regex
        f = regex.compile(QWEN2_PATTERN).findall
        if f(_CHECK) == want:
            return f, "regex"
    except Exception:   # noqa: BLE001 - any failure falls through to the next
        pass
    try:
        from tokenizers import Regex, pre_tokenizers
        split = pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False)
        f = lambda s: [p for p, _ in split.pre_tokenize_str(s)]  # noqa: E731
        if f(_CHECK) == want:
            return f, "tokenizers"
    except Exception:   # noqa: BLE001
        pass
    return pretokenize_pure, "pure"


pretokenize, PRETOKENIZER_KIND = _make_pretokenizer()


def word_of(piece):
    """A pre-token as GPT-2 byte-level characters."""
    return "".join(BYTE_ENC[b] for b in piece.encode("utf-8"))


# ---- trainer ---------------------------------------------------------------

def train_bpe(word_counts, vocab_size, log=None):
    """Learns merges from {pre-token string: count} until the vocabulary
    (256 bytes + merges + specials) has vocab_size entries. Incremental pair
    counts with a lazy max-heap, so each merge touches only the words that hold
    the pair."""
    n_merges = vocab_size - 256 - len(SPECIALS)
    symbols = [BYTE_ENC[b] for b in range(256)]
    sym_id = {s: i for i, s in enumerate(symbols)}
    words, freqs = [], []
    for w, f in word_counts.items():
        ids = [sym_id[ch] for ch in word_of(w)]
        if len(ids) > 1:
            words.append(ids)
            freqs.append(f)
    pair_count = {}
    where = {}
    for wi, ids in enumerate(words):
        f = freqs[wi]
        for p in zip(ids, ids[1:]):
            pair_count[p] = pair_count.get(p, 0) + f
            where.setdefault(p, set()).add(wi)
    heap = [(-c, symbols[a], symbols[b], (a, b)) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negc, _, _, pair = heapq.heappop(heap)
        c = pair_count.get(pair, 0)
        if c <= 0:
            continue
        if -negc != c:      # stale entry: push the current count back
            heapq.heappush(heap, (-c, symbols[pair[0]], symbols[pair[1]], pair))
            continue
        a, b = pair
        new = len(symbols)
        symbols.append(symbols[a] + symbols[b])
        merges.append(pair)
        changed = {}
        for wi in list(where.get(pair, ())):
            ids = words[wi]
            f = freqs[wi]
            for p in zip(ids, ids[1:]):
                pair_count[p] -= f
            out = []
            i = 0
            while i < len(ids):
                if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            words[wi] = out
            for p in zip(out, out[1:]):
                pair_count[p] = pair_count.get(p, 0) + f
                where.setdefault(p, set()).add(wi)
                changed[p] = True
        pair_count.pop(pair, None)
        where.pop(pair, None)
        for p in changed:
            c2 = pair_count.get(p, 0)
            if c2 > 0:
                heapq.heappush(heap, (-c2, symbols[p[0]], symbols[p[1]], p))
        if log and len(merges) % 500 == 0:
            log(f"bpe: {len(merges)}/{n_merges} merges, last {symbols[-1]!r}")
    tokens = symbols + list(SPECIALS)
    merge_strs = [f"{symbols[a]} {symbols[b]}" for a, b in merges]
    return Tokenizer(tokens, merge_strs)


# ---- encoder ---------------------------------------------------------------

class Tokenizer:
    def __init__(self, tokens, merges):
        self.tokens = list(tokens)
        self.merges = list(merges)
        self.id_of = {t: i for i, t in enumerate(self.tokens)}
        self.rank = {tuple(m.split(" ", 1)): r for r, m in enumerate(self.merges)}
        self.eos = self.id_of[EOS]
        self.pad = self.eos
        self.mask = self.id_of[MASK]
        self.file_sep = self.id_of[FILE_SEP]
        self.special_ids = {self.id_of[s] for s in SPECIALS}
        self._cache = {}
        self._bytes = [self._token_bytes(t) for t in self.tokens]

    def _token_bytes(self, t):
        if t in SPECIALS:
            return t.encode()
        return bytes(BYTE_DEC[c] for c in t)

    def __len__(self):
        return len(self.tokens)

    def _bpe(self, piece):
        ids = self._cache.get(piece)
        if ids is not None:
            return ids
        parts = list(word_of(piece))
        rank = self.rank
        while len(parts) > 1:
            best, bi = None, -1
            for i in range(len(parts) - 1):
                r = rank.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if bi < 0:
                break
            parts[bi:bi + 2] = [parts[bi] + parts[bi + 1]]
        ids = [self.id_of[p] for p in parts]
        if len(self._cache) < 1_000_000:
            self._cache[piece] = ids
        return ids

    def encode(self, text, specials=False):
        """Token ids of text. specials=True turns the literal special strings
        into their ids (used when re-encoding decoded training windows)."""
        if specials and "<|" in text:
            out = []
            for seg in _split_specials(text):
                if seg in SPECIALS:
                    out.append(self.id_of[seg])
                elif seg:
                    out.extend(self.encode(seg))
            return out
        out = []
        for p in pretokenize(text):
            out.extend(self._bpe(p))
        return out

    def decode_bytes(self, ids):
        return b"".join(self._bytes[i] for i in ids)

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"model": "gpt2", "pre": "qwen2", "tokens": self.tokens,
                       "merges": self.merges}, f, ensure_ascii=False)

    @classmethod
    def from_gguf(cls, meta):
        """The tokenizer a GGUF's metadata (gguf.read) carries."""
        return cls(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.merges"])

    @classmethod
    def load(cls, path):
        with open(path) as f:
            d = json.load(f)
        return cls(d["tokens"], d["merges"])


_SPECIAL_RE = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


def _split_specials(text):
    return _SPECIAL_RE.split(text)
