"""A small GGUF v3 writer and reader (from ggml's docs/gguf.md), enough for
dfim's built-in model: scalar, string and array metadata; f32, f16 and q8_0
tensors; alignment 32.

Tensor shapes are given in PyTorch order (outermost first); GGUF stores the
dimensions innermost first (ne0 = the last PyTorch dimension), so an
nn.Linear weight [out, in] is written row-major as is and has ne0 = in.
"""
import struct

import numpy as np

MAGIC = b"GGUF"
VERSION = 3
ALIGNMENT = 32

# metadata value types
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
# ggml tensor types
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
QK8_0 = 32

_SCALAR = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
           FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}


class U32(int):
    """Marks an int to be written as uint32 (ints default to uint32 anyway;
    use I32/U64/F32 wrappers to choose another type)."""


class I32(int):
    pass


class U64(int):
    pass


class F32(float):
    pass


def _vtype(v):
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, I32):
        return INT32
    if isinstance(v, U64):
        return UINT64
    if isinstance(v, int):
        return UINT32
    if isinstance(v, float):
        return FLOAT32
    if isinstance(v, str):
        return STRING
    if isinstance(v, (list, tuple)):
        return ARRAY
    raise TypeError(f"gguf: no metadata type for {type(v).__name__}")


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(t, v):
    if t == STRING:
        return _str(v)
    if t == ARRAY:
        if not v:
            return struct.pack("<IQ", INT32, 0)
        et = _vtype(v[0])
        if et == UINT32 and any(isinstance(x, I32) or x < 0 for x in v):
            et = INT32
        body = b"".join(_value(et, x) for x in v) if et in (STRING, ARRAY) else \
            np.asarray(v, dtype=np.dtype(_SCALAR[et][1:]).newbyteorder("<")).tobytes()
        return struct.pack("<IQ", et, len(v)) + body
    return struct.pack(_SCALAR[t], v)


def quantize_q8_0(x):
    """ggml's q8_0 of a float32 array whose last dimension is a multiple of
    32: per block of 32, an fp16 scale d = max|x|/127 then 32 int8
    round(x/d). Returns (bytes, dequantized float32 array)."""
    x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] % QK8_0:
        raise ValueError(f"q8_0 needs the inner dimension to be a multiple of 32, got {x.shape}")
    blocks = x.reshape(-1, QK8_0)
    amax = np.abs(blocks).max(axis=1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0).astype(np.float32)
    v = blocks * inv[:, None]
    q = (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int8)   # roundf: half away from 0
    d16 = d.astype(np.float16)
    rec = np.zeros(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", (QK8_0,))])
    rec["d"] = d16
    rec["qs"] = q
    deq = (q.astype(np.float32) * d16.astype(np.float32)[:, None]).reshape(x.shape)
    return rec.tobytes(), deq


def encode_tensor(x, ggml_type):
    """(bytes, dequantized float32 array) of x in ggml_type."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if ggml_type == GGML_F32:
        return x.astype("<f4").tobytes(), x
    if ggml_type == GGML_F16:
        h = x.astype("<f2")
        return h.tobytes(), h.astype(np.float32)
    if ggml_type == GGML_Q8_0:
        return quantize_q8_0(x)
    raise ValueError(f"gguf: unsupported tensor type {ggml_type}")


class Writer:
    def __init__(self):
        self.kv = []        # (key, type, value)
        self.tensors = []   # (name, shape, type, bytes)

    def add(self, key, value, vtype=None):
        self.kv.append((key, vtype if vtype is not None else _vtype(value), value))

    def add_tensor(self, name, x, ggml_type):
        """Adds x (PyTorch-order shape); returns the dequantized float32 array
        a reader of the file will see."""
        data, deq = encode_tensor(x, ggml_type)
        self.tensors.append((name, tuple(np.shape(x)), ggml_type, data))
        return deq

    def tobytes(self):
        out = bytearray()
        out += MAGIC + struct.pack("<IQQ", VERSION, len(self.tensors), len(self.kv))
        for k, t, v in self.kv:
            out += _str(k) + struct.pack("<I", t) + _value(t, v)
        offset = 0
        offsets = []
        for name, shape, t, data in self.tensors:
            offsets.append(offset)
            dims = list(reversed(shape))
            out += _str(name) + struct.pack("<I", len(dims))
            out += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", t, offset)
            offset += len(data)
            offset += -offset % ALIGNMENT
        out += b"\0" * (-len(out) % ALIGNMENT)
        base = len(out)
        for (name, shape, t, data), off in zip(self.tensors, offsets):
            out += b"\0" * (base + off - len(out))
            out += data
        return bytes(out)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.tobytes())


# ---- reader (tests and checks) ---------------------------------------------

class _Buf:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.i)
        self.i += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take("<Q")
        s = self.b[self.i:self.i + n].decode("utf-8")
        self.i += n
        return s

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(_SCALAR[t])


def read(b):
    """Parses GGUF bytes: (metadata dict, {name: (shape in PyTorch order,
    type, float32 array)})."""
    r = _Buf(b)
    if r.b[:4] != MAGIC:
        raise ValueError("gguf: bad magic")
    r.i = 4
    version, n_t, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    if version != VERSION:
        raise ValueError(f"gguf: version {version}")
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        meta[k] = r.value(r.take("<I"))
    align = meta.get("general.alignment", ALIGNMENT)
    infos = []
    for _ in range(n_t):
        name = r.string()
        nd = r.take("<I")
        dims = [r.take("<Q") for _ in range(nd)]
        t, off = r.take("<I"), r.take("<Q")
        infos.append((name, tuple(reversed(dims)), t, off))
    base = r.i + (-r.i % align)
    tensors = {}
    for name, shape, t, off in infos:
        n = int(np.prod(shape))
        p = base + off
        if off % align:
            raise ValueError(f"gguf: tensor {name} misaligned")
        if t == GGML_F32:
            a = np.frombuffer(b, "<f4", n, p)
        elif t == GGML_F16:
            a = np.frombuffer(b, "<f2", n, p).astype(np.float32)
        elif t == GGML_Q8_0:
            rec = np.frombuffer(b, [("d", "<f2"), ("qs", "i1", (QK8_0,))], n // QK8_0, p)
            a = rec["qs"].astype(np.float32) * rec["d"].astype(np.float32)[:, None]
        else:
            raise ValueError(f"gguf: tensor {name} has type {t}")
        tensors[name] = (shape, t, a.reshape(shape))
    return meta, tensors
