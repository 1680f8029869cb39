package remote

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Some OpenAI-compatible servers refuse the suffix field of /v1/completions
// (vLLM and SGLang answer 400 "suffix is not currently supported"; older
// llama.cpp answers 500 "Unsupported param: suffix", newer ones drop it
// silently, which is why llama.cpp gets /infill instead). For those the
// FIM prompt is written out with the model's own sentinel tokens and sent
// as a plain prompt. The template is found from the model name, or forced with
// DFIM_FIM_TEMPLATE (a template name, or "suffix" to always send suffix).
const templateEnv = "DFIM_FIM_TEMPLATE"

// A fimTemplate writes a FIM prompt for one model family.
type fimTemplate struct {
	name      string
	models    []string // lower-case substrings of model names that use it
	sentinels []string // its special tokens, for checking a vocabulary has them
	format    func(prefix, suffix string) string
}

// psm is the prefix-suffix-middle layout most code models were trained on.
func psm(pre, suf, mid string) func(string, string) string {
	return func(prefix, suffix string) string { return pre + prefix + suf + suffix + mid }
}

var fimTemplates = []fimTemplate{
	{"qwen", []string{"qwen", "codegemma"}, []string{"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"},
		psm("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")},
	{"starcoder", []string{"starcoder", "santacoder", "stable-code", "refact"}, []string{"<fim_prefix>", "<fim_suffix>", "<fim_middle>"},
		psm("<fim_prefix>", "<fim_suffix>", "<fim_middle>")},
	{"deepseek", []string{"deepseek"}, []string{"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"},
		psm("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>")},
	{"codellama", []string{"codellama", "code-llama", "code_llama"}, []string{"<PRE>", "<SUF>", "<MID>"},
		psm("<PRE> ", " <SUF>", " <MID>")},
	{"codestral", []string{"codestral"}, []string{"[SUFFIX]", "[PREFIX]"},
		func(prefix, suffix string) string { return "[SUFFIX]" + suffix + "[PREFIX]" + prefix }},
}

// templateNames lists the known templates, for messages.
func templateNames() string {
	var names []string
	for _, t := range fimTemplates {
		names = append(names, t.name)
	}
	return strings.Join(names, ", ")
}

// templateFor finds the template for a model name; nil when none is known.
func templateFor(model string) *fimTemplate {
	m := strings.ToLower(model)
	for i, t := range fimTemplates {
		for _, s := range t.models {
			if strings.Contains(m, s) {
				return &fimTemplates[i]
			}
		}
	}
	return nil
}

// forcedTemplate reads DFIM_FIM_TEMPLATE: (nil, false) when unset, (nil,
// true) for "suffix", the template otherwise.
func forcedTemplate() (*fimTemplate, bool, error) {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(templateEnv)))
	switch v {
	case "":
		return nil, false, nil
	case "suffix":
		return nil, true, nil
	}
	for i, t := range fimTemplates {
		if t.name == v {
			return &fimTemplates[i], true, nil
		}
	}
	return nil, false, fmt.Errorf("engine openai: %s=%q is not a FIM template; use suffix or one of %s", templateEnv, v, templateNames())
}

// suffixRefused reports whether err is a server refusing the suffix field.
func suffixRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Status == 0 || e.Status == 401 || e.Status == 403 || e.Status == 404 || e.Status == 429 {
		return false
	}
	return strings.Contains(strings.ToLower(e.Server), "suffix")
}
