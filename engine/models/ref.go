package models

import (
	"fmt"
	"regexp"
	"strings"
)

// A Ref is what `dfim model pull` was asked for, resolved to a repository.
type Ref struct {
	Name     string // the name it is registered under: a short name, or hf:ORG/NAME[/FILE][@REV]
	Repo     string // ORG/NAME
	Revision string // branch, tag or commit; "main" when not given
	File     string // a .gguf file in the repository; "" means the safetensors checkpoint
	Quant    string // the table's default quantization for a short name; "" otherwise
}

// hubName is what the Hub allows in an organisation or repository name.
var hubName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)

// hubRevision allows branch and tag names and commits, and nothing that
// could step out of a URL path segment or a cache folder.
var hubRevision = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$`)

// ParseRef reads a model reference: a short name from Table, hf:ORG/NAME,
// hf:ORG/NAME@REV, or hf:ORG/NAME/FILE.gguf (optionally @REV).
func ParseRef(s string) (Ref, error) {
	if k, ok := Lookup(s); ok {
		file := k.File
		return Ref{Name: k.Name, Repo: k.Repo, Revision: k.Revision, File: file, Quant: k.Quant}, nil
	}
	rest, ok := strings.CutPrefix(s, "hf:")
	if !ok {
		return Ref{}, fmt.Errorf("unknown model %q; give a short name (%s), hf:ORG/NAME[@REV] or hf:ORG/NAME/FILE.gguf",
			s, strings.Join(Names(), ", "))
	}
	r := Ref{Revision: "main"}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		r.Revision = rest[at+1:]
		rest = rest[:at]
		if !hubRevision.MatchString(r.Revision) || strings.Contains(r.Revision, "..") {
			return Ref{}, fmt.Errorf("%q: bad revision %q; give a branch, tag or commit, e.g. hf:ORG/NAME@main", s, r.Revision)
		}
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 || !hubName.MatchString(parts[0]) || !hubName.MatchString(parts[1]) {
		return Ref{}, fmt.Errorf("%q: want hf:ORG/NAME, e.g. hf:GSAI-ML/LLaDA-8B-Instruct", s)
	}
	r.Repo = parts[0] + "/" + parts[1]
	if len(parts) == 3 {
		r.File = parts[2]
		if !strings.HasSuffix(strings.ToLower(r.File), ".gguf") {
			return Ref{}, fmt.Errorf("%q: a file in a repository must be a .gguf file; give hf:ORG/NAME to convert its checkpoint", s)
		}
		if err := checkRepoPath(r.File); err != nil {
			return Ref{}, fmt.Errorf("%q: %v", s, err)
		}
	}
	r.Name = "hf:" + r.Repo
	if r.File != "" {
		r.Name += "/" + r.File
	}
	if r.Revision != "main" {
		r.Name += "@" + r.Revision
	}
	return r, nil
}

// checkRepoPath refuses a file name from a repository (or from the Hub's
// answer) that could write outside the snapshot folder.
func checkRepoPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return fmt.Errorf("bad file name %q in the repository", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("bad file name %q in the repository", p)
		}
	}
	return nil
}
