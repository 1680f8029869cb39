package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/dfim/dfim/engine/models"
)

func init() {
	register(&command{name: "model pull", run: runModelPull, usage: "[--quant Q] REF",
		summary: "download a model from the Hugging Face Hub, converting a checkpoint to GGUF\n" +
			"It goes into the model cache and is registered, so that --model REF (and the editors' model setting) uses it.\n" +
			"REF: a short name (" + strings.Join(models.Names(), ", ") + "),\n" +
			"hf:ORG/NAME[@REV] for any checkpoint, or hf:ORG/NAME/FILE.gguf[@REV] for a GGUF file in a repository.\n" +
			"Downloads resume after an interruption and every file is checked against its published hash.\n" +
			"Environment: HF_ENDPOINT (a mirror), HF_TOKEN (gated models; sent to HF_ENDPOINT only),\n" +
			"HF_HUB_OFFLINE=1 (the cache only), XDG_CACHE_HOME (the cache is $XDG_CACHE_HOME/dfim/models)."})
	register(&command{name: "model list", run: runModelList, usage: "[--available] [--json]",
		summary: "list the pulled models (name, size, GGUF path); --available lists the short names dfim knows"})
	register(&command{name: "model rm", run: runModelRm, usage: "NAME",
		summary: "unregister a pulled model and delete the files no other pulled model uses"})
}

// modelCache is the cache `dfim model` and --model use.
func modelCache() (*models.Cache, error) { return models.DefaultCache(os.Getenv) }

func runModelPull(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	quant := fs.String("quant", "", "quantization of a converted checkpoint: "+strings.Join(models.Quants, ", ")+
		" (default: the table's choice for a short name, else the published f16/bf16)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one REF, got %d arguments; e.g. dfim model pull open-dcoder-0.5b", fs.NArg())
	}
	if *quant != "" && !models.ValidQuant(*quant) {
		return usagef("unknown --quant %q; use one of: %s", *quant, strings.Join(models.Quants, ", "))
	}
	ref, err := models.ParseRef(fs.Arg(0))
	if err != nil {
		return usagef("%v", err)
	}
	cache, err := modelCache()
	if err != nil {
		return exitError{code: exitFailed, msg: err.Error()}
	}
	hub := models.HubFromEnv(os.Getenv)
	if k, ok := models.Lookup(fs.Arg(0)); ok {
		fmt.Fprintf(os.Stderr, "pulling %s: %s@%s, %s parameters, licence %s, about %s to download\n",
			k.Name, k.Repo, k.Revision, k.Params, k.License, k.DownloadSize())
	} else {
		endpoint := hub.Endpoint
		if u, err := url.Parse(endpoint); err == nil {
			endpoint = u.Redacted() // a mirror's URL may carry a password
		}
		fmt.Fprintf(os.Stderr, "pulling %s@%s from %s\n", ref.Repo, ref.Revision, endpoint)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	e, err := cache.Pull(ctx, hub, ref, models.PullOptions{Quant: *quant, Progress: models.NewProgress(os.Stderr, isTerminal(os.Stderr))})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return exitError{code: exitFailed, msg: "interrupted; the downloaded part is kept: run the same command to resume"}
		}
		return exitError{code: exitFailed, msg: err.Error()}
	}
	fmt.Fprintf(os.Stdout, "%s\t%s\n", e.Name, e.Path)
	fmt.Fprintf(os.Stderr, "pulled %s (%s): use it with --model %s, or \"model\": %q in the editor's settings\n",
		e.Name, models.HumanBytes(e.Bytes), e.Name, e.Name)
	return nil
}

func runModelList(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	available := fs.Bool("available", false, "list the short names dfim knows, with repository, size and licence")
	asJSON := fs.Bool("json", false, "print JSON: {\"models\": [...]}, the registry's entries or, with --available, the table's rows (for editors)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *available && *asJSON {
		type row struct {
			models.Known
			Size string `json:"size"`
		}
		var rows []row
		for _, k := range models.Table() {
			rows = append(rows, row{k, k.DownloadSize()})
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"models": rows})
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	if *available {
		fmt.Fprintln(tw, "NAME\tREPOSITORY\tPARAMETERS\tDOWNLOAD\tQUANT\tLICENCE")
		for _, k := range models.Table() {
			q := k.Quant
			if q == "" {
				q = "as published"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Repo, k.Params, k.DownloadSize(), q, k.License)
		}
		return tw.Flush()
	}
	cache, err := modelCache()
	if err != nil {
		return exitError{code: exitFailed, msg: err.Error()}
	}
	list, err := cache.List()
	if err != nil {
		return exitError{code: exitFailed, msg: err.Error()}
	}
	if *asJSON {
		if list == nil {
			list = []models.Entry{}
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"models": list})
	}
	if len(list) == 0 {
		fmt.Fprintf(os.Stderr, "no models pulled yet (cache %s); dfim model list --available shows what dfim model pull takes\n", cache.Root)
		return nil
	}
	fmt.Fprintln(tw, "NAME\tSIZE\tREVISION\tPATH")
	for _, e := range list {
		missing := ""
		if _, err := os.Stat(e.Path); err != nil {
			missing = " (missing: pull it again)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s@%.12s\t%s%s\n", e.Name, models.HumanBytes(e.Bytes), e.Revision, e.Commit, e.Path, missing)
	}
	return tw.Flush()
}

func runModelRm(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one NAME (dfim model list shows them), got %d arguments", fs.NArg())
	}
	cache, err := modelCache()
	if err != nil {
		return exitError{code: exitFailed, msg: err.Error()}
	}
	e, freed, err := cache.Remove(fs.Arg(0))
	if err != nil {
		return exitError{code: exitFailed, msg: err.Error()}
	}
	fmt.Fprintf(os.Stderr, "removed %s; %s freed\n", e.Name, models.HumanBytes(freed))
	return nil
}

// resolveModel turns --model (or the editors' model setting) into the
// path of a GGUF file: an existing file is used as it is; otherwise a
// pulled name gives its registered path. A short name or hf: reference
// not pulled yet is an error saying how to pull it; anything else is left
// as a path for the engine to report.
func resolveModel(model string) (string, error) {
	if model == "" {
		return "", nil
	}
	if _, err := os.Stat(model); err == nil {
		return model, nil
	}
	looksLikePath := filepath.IsAbs(model) || strings.HasPrefix(model, ".") ||
		(strings.HasSuffix(strings.ToLower(model), ".gguf") && !strings.HasPrefix(model, "hf:"))
	cache, err := modelCache()
	if err != nil {
		if looksLikePath {
			return model, nil
		}
		return "", exitError{code: exitFailed, msg: err.Error()}
	}
	e, ok, err := cache.Find(model)
	if err != nil {
		return "", exitError{code: exitFailed, msg: err.Error()}
	}
	if ok {
		if _, err := os.Stat(e.Path); err != nil {
			return "", exitError{code: exitFailed, msg: fmt.Sprintf("model %s was pulled but its file %s is gone; run dfim model pull %s again", e.Name, e.Path, e.Name)}
		}
		return e.Path, nil
	}
	if k, known := models.Lookup(model); known {
		return "", exitError{code: exitFailed, msg: fmt.Sprintf("model %s is not pulled yet; run dfim model pull %s (about %s)", k.Name, k.Name, k.DownloadSize())}
	}
	if strings.HasPrefix(model, "hf:") {
		return "", exitError{code: exitFailed, msg: fmt.Sprintf("model %s is not pulled yet; run dfim model pull %s", model, model)}
	}
	if !looksLikePath && !strings.ContainsAny(model, `/\`) {
		return "", exitError{code: exitFailed, msg: fmt.Sprintf("no model file %s and no pulled model of that name; dfim model list shows the pulled models, dfim model list --available the ones dfim model pull fetches", model)}
	}
	return model, nil
}

// builtinHint is the line dfim prints wherever its small built-in model
// answered, naming a stronger model to pull.
func builtinHint() string {
	k, _ := models.Lookup("open-dcoder-0.5b")
	return fmt.Sprintf("dfim: this came from the small built-in model; for better suggestions: dfim model pull %s (about %s), then --model %s",
		k.Name, k.DownloadSize(), k.Name)
}
