package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dfim/dfim/engine/models/convert"
)

// PullOptions adjust a Pull.
type PullOptions struct {
	// Quant overrides the reference's default quantization of a converted
	// checkpoint ("" keeps the table's choice; "f16"/"bf16" keep the
	// published type).
	Quant string
	// Progress hears each download; nil: silent.
	Progress Progress
	// Convert turns a checkpoint folder into a GGUF file; nil:
	// convert.Checkpoint. It returns the family it converted.
	Convert func(srcDir, dstPath, quant string) (family string, err error)
}

// Pull makes the model ref names available as a GGUF file in the cache
// and registers it: it lists the repository's files at the revision,
// checks there is room, downloads what the cache lacks (resuming partial
// files, checking every hash), converts a safetensors checkpoint, and
// only then registers the result under the returned Entry's Name. With
// hub.Offline it uses the cache alone.
func (c *Cache) Pull(ctx context.Context, hub *Hub, ref Ref, opt PullOptions) (Entry, error) {
	quant := ref.Quant
	name := ref.Name
	if opt.Quant != "" {
		if ref.File != "" {
			return Entry{}, fmt.Errorf("%s is a GGUF file, pulled as published: --quant applies to checkpoints only", ref.Name)
		}
		if opt.Quant != quant {
			name += ":" + opt.Quant
		}
		quant = opt.Quant
	}
	commit, files, err := c.fileList(ctx, hub, ref)
	if err != nil {
		return Entry{}, err
	}
	want, err := pick(ref, files)
	if err != nil {
		return Entry{}, err
	}

	// What must still be fetched, and the room it needs.
	var missing []RemoteFile
	var need int64
	for _, f := range want {
		if f.Hash() == "" {
			return Entry{}, fmt.Errorf("%s of %s: the Hub published no hash for it, so it cannot be checked; refusing it", f.Path, ref.Repo)
		}
		if _, err := os.Stat(c.blobPath(f.Hash())); err == nil {
			continue
		}
		missing = append(missing, f)
		need += f.Size
		if st, err := os.Stat(c.blobPath(f.Hash()) + ".partial"); err == nil && st.Size() <= f.Size {
			need -= st.Size()
		}
	}
	out := ""
	if ref.File == "" {
		out = c.ggufPath(ref.Repo, commit, quant)
		if _, err := os.Stat(out); err != nil {
			need += convertedSize(want, quant)
		}
	}
	if len(missing) > 0 && hub.Offline {
		return Entry{}, fmt.Errorf("%w and %s@%s is not fully in the cache (%d of %d files missing, e.g. %s); unset HF_HUB_OFFLINE to download it",
			ErrOffline, ref.Repo, ref.Revision, len(missing), len(want), missing[0].Path)
	}
	if err := os.MkdirAll(filepath.Join(c.Root, "blobs"), 0o755); err != nil {
		return Entry{}, fmt.Errorf("creating the model cache: %w", err)
	}
	if free, err := freeBytes(c.Root); err == nil && free >= 0 && need > free {
		return Entry{}, fmt.Errorf("pulling %s needs about %s free under %s, and %s is free; free some space (dfim model rm) or set XDG_CACHE_HOME to a larger disk",
			ref.Name, HumanBytes(need), c.Root, HumanBytes(free))
	}

	for _, f := range missing {
		blob := c.blobPath(f.Hash())
		if err := hub.download(ctx, ref.Repo, commit, f, blob+".partial", opt.Progress); err != nil {
			return Entry{}, err
		}
		if err := os.Rename(blob+".partial", blob); err != nil {
			return Entry{}, fmt.Errorf("storing %s: %w", f.Path, err)
		}
	}
	snap := c.snapshotDir(ref.Repo, commit)
	for _, f := range want {
		if err := c.link(snap, f); err != nil {
			return Entry{}, err
		}
	}

	e := Entry{Name: name, Repo: ref.Repo, Revision: ref.Revision, Commit: commit, File: ref.File, PulledAt: time.Now().UTC()}
	if ref.File != "" {
		e.Path = filepath.Join(snap, filepath.FromSlash(ref.File))
	} else {
		e.Quant, e.Path = quant, out
		if _, err := os.Stat(out); err != nil {
			if e.Family, err = c.convert(opt, snap, out, quant); err != nil {
				return Entry{}, fmt.Errorf("converting %s@%s: %w; nothing was registered", ref.Repo, short(commit), err)
			}
		}
	}
	st, err := os.Stat(e.Path)
	if err != nil {
		return Entry{}, err
	}
	e.Bytes = st.Size()
	if err := c.register(e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// fileList is the Hub's file list of ref at its revision, remembered in
// the cache for offline use; offline it comes from the cache.
func (c *Cache) fileList(ctx context.Context, hub *Hub, ref Ref) (string, []RemoteFile, error) {
	if hub.Offline {
		commit := ref.Revision
		if data, err := os.ReadFile(c.refPath(ref.Repo, ref.Revision)); err == nil {
			commit = strings.TrimSpace(string(data))
		}
		data, err := os.ReadFile(c.manifestPath(ref.Repo, commit))
		if err != nil {
			return "", nil, fmt.Errorf("%w and %s@%s was never pulled here; unset HF_HUB_OFFLINE to download it", ErrOffline, ref.Repo, ref.Revision)
		}
		var files []RemoteFile
		if err := json.Unmarshal(data, &files); err != nil {
			return "", nil, fmt.Errorf("reading %s: %w", c.manifestPath(ref.Repo, commit), err)
		}
		return commit, files, nil
	}
	commit, files, err := hub.Files(ctx, ref.Repo, ref.Revision)
	if err != nil {
		return "", nil, err
	}
	data, _ := json.Marshal(files)
	if err := writeFileAtomic(c.manifestPath(ref.Repo, commit), data); err != nil {
		return "", nil, fmt.Errorf("writing to the model cache: %w", err)
	}
	if err := writeFileAtomic(c.refPath(ref.Repo, ref.Revision), []byte(commit+"\n")); err != nil {
		return "", nil, fmt.Errorf("writing to the model cache: %w", err)
	}
	return commit, files, nil
}

// checkpointFile says whether a repository file is part of what the
// converter reads: the weights, config.json and the tokenizer's files.
func checkpointFile(p string) bool {
	base := path.Base(p)
	if base != p { // files in sub-folders are not the checkpoint's
		return false
	}
	return strings.HasSuffix(base, ".safetensors") || strings.HasSuffix(base, ".json") ||
		base == "merges.txt" || base == "vocab.txt" || base == "tokenizer.model"
}

// pick chooses the files of the repository a pull needs.
func pick(ref Ref, files []RemoteFile) ([]RemoteFile, error) {
	var ggufs []string
	for _, f := range files {
		if strings.HasSuffix(strings.ToLower(f.Path), ".gguf") {
			ggufs = append(ggufs, f.Path)
		}
	}
	if ref.File != "" {
		for _, f := range files {
			if f.Path == ref.File {
				return []RemoteFile{f}, nil
			}
		}
		hint := "it has no .gguf files; pull hf:" + ref.Repo + " to convert its checkpoint"
		if len(ggufs) > 0 {
			hint = "its .gguf files: " + strings.Join(ggufs, ", ")
		}
		return nil, fmt.Errorf("%s has no file %s at %s; %s", ref.Repo, ref.File, ref.Revision, hint)
	}
	var want []RemoteFile
	var config, weights bool
	for _, f := range files {
		if checkpointFile(f.Path) {
			want = append(want, f)
			config = config || f.Path == "config.json"
			weights = weights || strings.HasSuffix(f.Path, ".safetensors")
		}
	}
	if !config || !weights {
		hint := "dfim converts safetensors checkpoints with a config.json"
		if len(ggufs) > 0 {
			hint = "it publishes GGUF files: pull one as hf:" + ref.Repo + "/" + ggufs[0]
		}
		return nil, fmt.Errorf("%s at %s has no safetensors checkpoint (config.json and *.safetensors); %s", ref.Repo, ref.Revision, hint)
	}
	return want, nil
}

// convertedSize estimates the GGUF a conversion writes, from the
// safetensors' size (published in bf16/f16 for nearly every coder).
func convertedSize(files []RemoteFile, quant string) int64 {
	var n int64
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".safetensors") {
			n += f.Size
		}
	}
	switch strings.ToLower(quant) {
	case "q8_0":
		return n * 17 / 30 // 8.5 bits a weight
	case "q4_k_m", "q4_k", "q4_0", "q4_k_s", "q5_k", "q5_k_m", "q6_k":
		return n * 7 / 20 // at most ~5.5 bits a weight
	}
	return n
}

// link puts f into the snapshot folder as a relative symbolic link to its
// blob (a copy where links are refused).
func (c *Cache) link(snap string, f RemoteFile) error {
	dst := filepath.Join(snap, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	blob := c.blobPath(f.Hash())
	rel, err := filepath.Rel(filepath.Dir(dst), blob)
	if err != nil {
		return err
	}
	if t, err := os.Readlink(dst); err == nil && t == rel {
		return nil
	}
	os.Remove(dst)
	if err := os.Symlink(rel, dst); err == nil {
		return nil
	}
	data, err := os.ReadFile(blob)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// convert writes the GGUF of the checkpoint in snap to out, through a
// partial file so an interrupted conversion leaves nothing that looks
// finished.
func (c *Cache) convert(opt PullOptions, snap, out, quant string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	conv := opt.Convert
	if conv == nil {
		conv = func(src, dst, q string) (string, error) {
			rep, err := convert.Checkpoint(src, dst, convert.Options{Quant: q})
			return rep.Family, err
		}
	}
	tmp := out + ".partial"
	family, err := conv(snap, tmp, quant)
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	if _, err := os.Stat(tmp); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("the converter wrote no file")
	}
	return family, os.Rename(tmp, out)
}

// Quants are the values --quant takes.
var Quants = []string{"f16", "bf16", "q8_0", "q4_0", "q4_K", "q4_K_M", "q5_K", "q6_K"}

// ValidQuant says whether q is one of Quants, in any case.
func ValidQuant(q string) bool {
	return slices.ContainsFunc(Quants, func(x string) bool { return strings.EqualFold(x, q) })
}

// short is a commit as people read it.
func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
