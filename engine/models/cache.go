package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A Cache is the folder pulled models live in (see the package comment
// for its layout).
type Cache struct{ Root string }

// DefaultCache is $XDG_CACHE_HOME/dfim/models, or ~/.cache/dfim/models.
func DefaultCache(getenv func(string) string) (*Cache, error) {
	base := getenv("XDG_CACHE_HOME")
	if base == "" || !filepath.IsAbs(base) { // the XDG spec ignores a relative value
		home := getenv("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("finding the model cache: %w; set XDG_CACHE_HOME", err)
			}
			home = h
		}
		base = filepath.Join(home, ".cache")
	}
	return &Cache{Root: filepath.Join(base, "dfim", "models")}, nil
}

// repoDir names a repository in the cache: ORG--NAME, as the Hub's cache does.
func repoDir(repo string) string { return strings.ReplaceAll(repo, "/", "--") }

func (c *Cache) blobPath(hash string) string { return filepath.Join(c.Root, "blobs", hash) }
func (c *Cache) snapshotDir(repo, commit string) string {
	return filepath.Join(c.Root, "snapshots", repoDir(repo), commit)
}
func (c *Cache) refPath(repo, rev string) string {
	return filepath.Join(c.Root, "refs", repoDir(repo), filepath.FromSlash(rev))
}
func (c *Cache) manifestPath(repo, commit string) string {
	return filepath.Join(c.Root, "manifests", repoDir(repo), commit+".json")
}
func (c *Cache) ggufPath(repo, commit, quant string) string {
	if quant == "" {
		quant = "as-published"
	}
	return filepath.Join(c.Root, "gguf", repoDir(repo), commit, quant+".gguf")
}
func (c *Cache) registryPath() string { return filepath.Join(c.Root, "registry.json") }

// An Entry is one pulled model in the registry.
type Entry struct {
	Name     string    `json:"name"`             // what --model accepts
	Repo     string    `json:"repo"`             // ORG/NAME
	Revision string    `json:"revision"`         // as asked for
	Commit   string    `json:"commit"`           // what it resolved to
	File     string    `json:"file,omitempty"`   // the .gguf pulled as it is; "" for a converted checkpoint
	Quant    string    `json:"quant,omitempty"`  // the conversion's quantization
	Path     string    `json:"path"`             // the GGUF file the engine opens
	Bytes    int64     `json:"bytes"`            // its size
	Family   string    `json:"family,omitempty"` // from the converter's report
	PulledAt time.Time `json:"pulled_at"`
}

type registry struct {
	Models []Entry `json:"models"`
}

func (c *Cache) readRegistry() (registry, error) {
	var r registry
	data, err := os.ReadFile(c.registryPath())
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("reading the model registry: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("reading the model registry %s: %w; remove it and pull the models again", c.registryPath(), err)
	}
	return r, nil
}

// writeRegistry replaces registry.json in one rename, so a reader never
// sees half of it.
func (c *Cache) writeRegistry(r registry) error {
	slices.SortFunc(r.Models, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(c.registryPath(), append(data, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// List returns the pulled models, by name.
func (c *Cache) List() ([]Entry, error) {
	r, err := c.readRegistry()
	return r.Models, err
}

// Find returns the pulled model named name. A hf: name may be given with
// or without its "hf:" prefix.
func (c *Cache) Find(name string) (Entry, bool, error) {
	r, err := c.readRegistry()
	if err != nil {
		return Entry{}, false, err
	}
	for _, e := range r.Models {
		if e.Name == name || strings.EqualFold(e.Name, name) || e.Name == "hf:"+name {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

// lockRegistry keeps two dfim processes from changing registry.json at
// once (each would write back what it read, losing the other's change).
func (c *Cache) lockRegistry() (func(), error) {
	if err := os.MkdirAll(c.Root, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(c.registryPath() + ".lock")
	if err != nil {
		return nil, fmt.Errorf("locking the model registry: %w", err)
	}
	return unlock, nil
}

// register adds e, replacing an entry of the same name.
func (c *Cache) register(e Entry) error {
	unlock, err := c.lockRegistry()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := c.readRegistry()
	if err != nil {
		return err
	}
	r.Models = slices.DeleteFunc(r.Models, func(x Entry) bool { return x.Name == e.Name })
	r.Models = append(r.Models, e)
	return c.writeRegistry(r)
}

// Remove unregisters the model named name and deletes the files no other
// pulled model uses: its converted GGUF, its snapshot, and the blobs no
// snapshot links to any more. It returns the entry removed and the bytes
// freed.
func (c *Cache) Remove(name string) (Entry, int64, error) {
	unlock, err := c.lockRegistry()
	if err != nil {
		return Entry{}, 0, err
	}
	defer unlock()
	e, ok, err := c.Find(name)
	if err != nil {
		return e, 0, err
	}
	if !ok {
		return e, 0, fmt.Errorf("no pulled model named %q; dfim model list shows them", name)
	}
	r, err := c.readRegistry()
	if err != nil {
		return e, 0, err
	}
	r.Models = slices.DeleteFunc(r.Models, func(x Entry) bool { return x.Name == e.Name })
	if err := c.writeRegistry(r); err != nil {
		return e, 0, err
	}
	var freed int64
	pathUsed := slices.ContainsFunc(r.Models, func(x Entry) bool { return x.Path == e.Path })
	if !pathUsed && e.File == "" && strings.HasPrefix(e.Path, filepath.Join(c.Root, "gguf")+string(filepath.Separator)) {
		if st, err := os.Stat(e.Path); err == nil {
			freed += st.Size()
		}
		os.Remove(e.Path)
		os.Remove(filepath.Dir(e.Path)) // empty folders only
		os.Remove(filepath.Dir(filepath.Dir(e.Path)))
	}
	snapUsed := slices.ContainsFunc(r.Models, func(x Entry) bool { return x.Repo == e.Repo && x.Commit == e.Commit })
	if !snapUsed {
		dir := c.snapshotDir(e.Repo, e.Commit)
		if err := os.RemoveAll(dir); err != nil {
			return e, freed, fmt.Errorf("removing %s: %w", dir, err)
		}
		os.Remove(filepath.Dir(dir))
		os.Remove(c.manifestPath(e.Repo, e.Commit))
		n, err := c.collectBlobs()
		freed += n
		if err != nil {
			return e, freed, err
		}
	}
	return e, freed, nil
}

// collectBlobs deletes the verified blobs no snapshot links to.
func (c *Cache) collectBlobs() (int64, error) {
	used := map[string]bool{}
	_ = filepath.WalkDir(filepath.Join(c.Root, "snapshots"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			if t, err := os.Readlink(p); err == nil {
				used[filepath.Base(t)] = true
			}
		}
		return nil
	})
	ents, err := os.ReadDir(filepath.Join(c.Root, "blobs"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	var freed int64
	for _, d := range ents {
		if used[d.Name()] || strings.HasSuffix(d.Name(), ".partial") {
			continue // a partial may be another pull's, still running
		}
		p := filepath.Join(c.Root, "blobs", d.Name())
		if info, err := d.Info(); err == nil {
			freed += info.Size()
		}
		if err := os.Remove(p); err != nil {
			return freed, fmt.Errorf("removing %s: %w", p, err)
		}
	}
	return freed, nil
}
