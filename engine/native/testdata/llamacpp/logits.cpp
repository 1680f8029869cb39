// logits: one forward of llama.cpp over fixed canvases, as its diffusion
// CLI runs one denoising step (examples/diffusion/diffusion.cpp): the whole
// canvas in one batch, non-causal attention, logits for every position.
//
//   logits MODEL THREADS IDS [IDS...]     IDS: comma-separated token ids
//
// Prints one JSON object: {"ok": true, "n_vocab", "shift_logits" (as the
// diffusion CLI decides it: diffusion.shift_logits, true when absent),
// "canvases": [{"tokens": [...], "logits": [[row 0], [row 1], ...]}]}
// with row i the output of the hidden state at position i (not shifted),
// or {"ok": false, "error": "..."} with llama.cpp's log when the model or
// the decode fails. Attention runs in float32 (flash attention off; see
// below). Built by make.sh against libllama.
#include "llama.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static std::string g_log;

static void log_cb(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) {
        g_log += text;
    }
}

static void json_string(const std::string & s) {
    putchar('"');
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static int fail(const char * what) {
    printf("{\"ok\": false, \"error\": ");
    json_string(std::string(what) + "\n" + g_log);
    printf("}\n");
    return 0;
}

int main(int argc, char ** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL THREADS IDS [IDS...]\n", argv[0]);
        return 2;
    }
    llama_log_set(log_cb, nullptr);
    llama_backend_init();

    std::vector<std::vector<llama_token>> canvases;
    size_t longest = 0;
    for (int i = 3; i < argc; i++) {
        std::vector<llama_token> ids;
        for (char * p = argv[i]; *p;) {
            ids.push_back((llama_token) strtol(p, &p, 10));
            if (*p == ',') {
                p++;
            }
        }
        longest = std::max(longest, ids.size());
        canvases.push_back(ids);
    }

    llama_model_params mp = llama_model_default_params();
    // ggml's plain CPU kernels: no extra buffer types, which on this build
    // (GGML_NATIVE) would repack weights for AMX or AVX-512 tiles, and whose
    // AMX matrix product crashes on matrices this small (de3ff81).
    mp.use_extra_bufts = false;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        return fail("llama_model_load_from_file failed");
    }
    if (!llama_model_is_diffusion(model)) {
        return fail("not a diffusion model");
    }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    bool shift = true; // diffusion-cli.cpp: true unless the key says otherwise
    char buf[16];
    if (llama_model_meta_val_str(model, "diffusion.shift_logits", buf, sizeof(buf)) >= 0) {
        shift = strcmp(buf, "true") == 0;
    }

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = (uint32_t) std::max<size_t>(longest, 8);
    cp.n_threads = cp.n_threads_batch = atoi(argv[2]);
    cp.no_perf = true;
    // Attention in float32: with flash attention (the default, "auto", is on
    // for the CPU) llama.cpp casts the keys and values of a cache-less
    // model to f16 first (build_attn_mha), which moves these logits by up to
    // about 0.02, noise that would hide the differences the parity test is for.
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        return fail("llama_init_from_model failed");
    }
    llama_set_causal_attn(ctx, false);

    printf("{\"ok\": true, \"n_vocab\": %d, \"shift_logits\": %s, \"canvases\": [", n_vocab, shift ? "true" : "false");
    for (size_t c = 0; c < canvases.size(); c++) {
        const auto & ids = canvases[c];
        llama_batch batch = llama_batch_init((int32_t) ids.size(), 0, 1);
        batch.n_tokens = (int32_t) ids.size();
        for (size_t i = 0; i < ids.size(); i++) {
            batch.token[i] = ids[i];
            batch.pos[i] = (llama_pos) i;
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = 1;
        }
        if (llama_decode(ctx, batch) != 0) {
            return fail("llama_decode failed");
        }
        const float * logits = llama_get_logits(ctx);
        printf("%s{\"tokens\": [", c ? ", " : "");
        for (size_t i = 0; i < ids.size(); i++) {
            printf("%s%d", i ? ", " : "", ids[i]);
        }
        printf("], \"logits\": [");
        for (size_t i = 0; i < ids.size(); i++) {
            printf("%s[", i ? ", " : "");
            for (int v = 0; v < n_vocab; v++) {
                printf("%s%.9g", v ? ", " : "", logits[i * n_vocab + v]);
            }
            printf("]");
        }
        printf("]}");
        llama_batch_free(batch);
    }
    printf("]}\n");
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
