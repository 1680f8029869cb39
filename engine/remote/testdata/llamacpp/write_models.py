"""Writes the two tiny random-weight qwen2 GGUFs that run.sh serves, with
llama.cpp's own gguf-py (PYTHONPATH=<llama.cpp>/gguf-py):

    qwen2-fim.gguf    Qwen2.5-Coder's FIM tokens (<|fim_prefix|>, <|fim_suffix|>,
                      <|fim_middle|>, <|fim_pad|>, <|repo_name|>, <|file_sep|>),
                      named in tokenizer.ggml.fim_*_token_id
    qwen2-nofim.gguf  the same without them: llama-server answers /infill with
                      501 "Infill is not supported by this model"

    python3 write_models.py OUTDIR

The weights are noise: the models exercise the server's request and answer
paths, not completion quality. Byte-level BPE over the 256 byte symbols plus
a few merges, so any text tokenizes.
"""
import sys

import numpy as np

import gguf

N_EMBD, N_HEAD, N_HEAD_KV, N_FF, N_LAYER, N_CTX = 64, 4, 2, 128, 2, 4096
FIM_TOKENS = ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"]


def byte_symbols():
    """GPT-2's byte-to-unicode table: the 256 byte tokens of byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def vocab(fim):
    tokens = byte_symbols()
    merges = ["Ġ Ġ", "ĠĠ ĠĠ", "r e", "Ġ re", "Ġre t", "u r", "Ġret ur", "Ġretur n", "d e", "f Ġ", "Ġ a", "Ġ b", "Ġ +"]
    for m in merges:
        tokens.append(m.replace(" ", ""))
    types = [gguf.TokenType.NORMAL] * len(tokens)
    specials = ["<|endoftext|>"] + (FIM_TOKENS if fim else [])
    ids = {}
    for s in specials:
        ids[s] = len(tokens)
        tokens.append(s)
        types.append(gguf.TokenType.CONTROL)
    return tokens, types, merges, ids


def write(path, fim, rng):
    tokens, types, merges, ids = vocab(fim)
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_name("dfim-test-qwen2-fim" if fim else "dfim-test-qwen2-nofim")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    eot = ids["<|endoftext|>"]
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)
    w.add_pad_token_id(eot)
    w.add_add_bos_token(False)
    if fim:
        w.add_uint32(gguf.Keys.Tokenizer.FIM_PRE_ID, ids["<|fim_prefix|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_SUF_ID, ids["<|fim_suffix|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_MID_ID, ids["<|fim_middle|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_PAD_ID, ids["<|fim_pad|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_REP_ID, ids["<|repo_name|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_SEP_ID, ids["<|file_sep|>"])

    n_vocab, kv = len(tokens), N_EMBD // N_HEAD * N_HEAD_KV

    def t(name, *shape):
        # numpy's shape is [rows, cols]; gguf-py reverses it into ne.
        w.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    def ones(name, n):
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    t("token_embd.weight", n_vocab, N_EMBD)
    for i in range(N_LAYER):
        p = f"blk.{i}."
        ones(p + "attn_norm.weight", N_EMBD)
        t(p + "attn_q.weight", N_EMBD, N_EMBD)
        t(p + "attn_q.bias", N_EMBD)
        t(p + "attn_k.weight", kv, N_EMBD)
        t(p + "attn_k.bias", kv)
        t(p + "attn_v.weight", kv, N_EMBD)
        t(p + "attn_v.bias", kv)
        t(p + "attn_output.weight", N_EMBD, N_EMBD)
        ones(p + "ffn_norm.weight", N_EMBD)
        t(p + "ffn_gate.weight", N_FF, N_EMBD)
        t(p + "ffn_up.weight", N_FF, N_EMBD)
        t(p + "ffn_down.weight", N_EMBD, N_FF)
    ones("output_norm.weight", N_EMBD)
    t("output.weight", n_vocab, N_EMBD)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    rng = np.random.default_rng(19)
    write(f"{out}/qwen2-fim.gguf", True, rng)
    write(f"{out}/qwen2-nofim.gguf", False, rng)


if __name__ == "__main__":
    main()
