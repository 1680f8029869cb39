package models

import (
	"fmt"
	"slices"
	"strings"
)

// A Known model is one row of the table of short names dfim ships.
type Known struct {
	Name     string `json:"name"`           // short name: dfim model pull NAME, --model NAME
	Repo     string `json:"repo"`           // Hugging Face repository, ORG/NAME
	Revision string `json:"revision"`       // pinned commit where one was checked, else "main"
	File     string `json:"file,omitempty"` // a .gguf file in Repo to fetch instead of converting; "" converts the checkpoint
	Family   string `json:"family"`         // the architecture family engine/native runs it as
	License  string `json:"license"`
	Params   string `json:"params"` // parameter count as published
	Bytes    int64  `json:"bytes"`  // approximate download size (the published safetensors)
	Quant    string `json:"quant"`  // quantization dfim converts to by default ("" keeps f16/bf16)
	Note     string `json:"note,omitempty"`
}

// DownloadSize is Bytes for people: "about 1.0 GB".
func (k Known) DownloadSize() string { return HumanBytes(k.Bytes) }

// Table lists the diffusion coders dfim knows by short name, smallest
// first.
//
// Repositories were looked up on the Hub's public pages (2026-12); the
// revisions are "main" because no commit could be checked against the Hub
// from the machine that wrote this table: pin them when one can. Sizes are
// the published safetensors, rounded. Rows whose repository name or licence
// could not be confirmed say so in Note.
func Table() []Known { return slices.Clone(table) }

var table = []Known{
	{Name: "open-dcoder-0.5b", Repo: "fredzzp/open-dcoder-0.5B", Revision: "main", Family: "open-dcoder",
		License: "apache-2.0", Params: "0.5B", Bytes: 1_000_000_000, Quant: "q8_0",
		Note: "Qwen2.5-Coder-0.5B made bidirectional (Open-dLLM); repository name from the issue, not confirmed on the Hub; licence not confirmed"},
	{Name: "tiny-a2d-0.6b", Repo: "dllm-collection/Qwen3-0.6B-diffusion-mdlm-v0.1", Revision: "main", Family: "tiny-a2d",
		License: "apache-2.0", Params: "0.6B", Bytes: 1_200_000_000, Quant: "q8_0",
		Note: "Qwen3-0.6B converted to masked diffusion (dllm's Tiny-A2D); seen under both dllm-collection/ and dllm-hub/: not confirmed which is canonical"},
	{Name: "coda-1.7b", Repo: "Salesforce/CoDA-v0-Instruct", Revision: "main", Family: "coda",
		License: "cc-by-nc-4.0", Params: "1.7B", Bytes: 8_140_000_000, Quant: "q8_0",
		Note: "non-commercial licence (confirmed for CoDA-v0-Base; assumed the same for Instruct); published in f32"},
	{Name: "llada-moe-7b", Repo: "inclusionAI/LLaDA-MoE-7B-A1B-Instruct", Revision: "main", Family: "llada-moe",
		License: "apache-2.0", Params: "7B (1.4B active)", Bytes: 14_000_000_000, Quant: "q4_K_M"},
	{Name: "dream-coder-7b", Repo: "Dream-org/Dream-Coder-v0-Instruct-7B", Revision: "main", Family: "dream",
		License: "apache-2.0", Params: "7.6B", Bytes: 15_200_000_000, Quant: "q4_K_M",
		Note: "licence not confirmed"},
	{Name: "diffucoder-7b", Repo: "apple/DiffuCoder-7B-cpGRPO", Revision: "main", Family: "dream",
		License: "see the repository (apple-amlr)", Params: "7.6B", Bytes: 15_200_000_000, Quant: "q4_K_M",
		Note: "Dream architecture; the Hub shows the licence as \"unknown\" for DiffuCoder-7B-Instruct: read it before use"},
	{Name: "dreamon-7b", Repo: "Dream-org/DreamOn-v0-7B", Revision: "main", Family: "dream",
		License: "apache-2.0", Params: "7.6B", Bytes: 15_200_000_000, Quant: "q4_K_M",
		Note: "variable-length infilling (expand/delete tokens); repository name and licence not confirmed on the Hub"},
	{Name: "llada-8b", Repo: "GSAI-ML/LLaDA-8B-Instruct", Revision: "main", Family: "llada",
		License: "mit", Params: "8B", Bytes: 16_000_000_000, Quant: "q4_K_M",
		Note: "licence not confirmed"},
}

// Lookup finds a short name in the table, ignoring case.
func Lookup(name string) (Known, bool) {
	for _, k := range table {
		if strings.EqualFold(k.Name, name) {
			return k, true
		}
	}
	return Known{}, false
}

// Names lists the short names, for messages.
func Names() []string {
	var n []string
	for _, k := range table {
		n = append(n, k.Name)
	}
	return n
}

// HumanBytes writes n as "1.0 GB", "640 MB", "12 kB" (powers of 1000, as
// the Hub writes sizes).
func HumanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
