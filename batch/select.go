package batch

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/dfim/dfim/infill/syntax"
)

// Which files and markers a run fills.
//
// By default a walk fills the source files of the languages dfim has a
// tree-sitter grammar for (syntax.Validated: go, python, javascript, …),
// and in them only the markers that sit in code: a marker inside a comment
// or a string literal, as the syntax tree tells, is text about dfim (help,
// docs, tests), not a hole. Config.Anywhere fills those too. Files of
// other kinds (Markdown, JSONL, text, languages without a grammar) are
// filled only when an Include glob names them, and then every marker in
// them counts: there is no tree to tell code from text.

// A globSet is the --include or --exclude globs of a run.
//
// A glob is matched against a file's slash-separated path relative to the
// PATH it was found under (a PATH that is a file: that path as given).
// A glob without a slash matches any one element of that path, the file's
// name or one of its folders, as in .gitignore ("*.go", "testdata"). A glob
// with a slash before its end (or starting with "./") matches from the
// PATH down, the whole path or one of its leading folders ("cmd/dfim",
// "internal/*/x.go", "./gen"), and "**" as a whole
// element stands for any number of folders, none included ("**/gen/*.go").
// Every other element is matched with path.Match ("*", "?", "[a-z]").
type globSet []string

// newGlobSet checks the globs; flag names the option, for the message.
func newGlobSet(flag string, globs []string) (globSet, error) {
	var out globSet
	for _, g := range globs {
		g = filepath.ToSlash(strings.TrimSpace(g))
		if rest, ok := strings.CutPrefix(g, "./"); ok {
			g = "/" + rest // anchored at the PATH, as a leading slash is
		}
		if strings.Trim(g, "/") == "" {
			continue
		}
		for _, el := range strings.Split(strings.Trim(g, "/"), "/") {
			if _, err := path.Match(el, ""); err != nil {
				return nil, fmt.Errorf("%s %q: %v (globs use *, ?, [a-z] and ** for any folders)", flag, g, err)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// CheckGlobs reports a malformed glob of an --include or --exclude flag.
func CheckGlobs(flag string, globs []string) error {
	_, err := newGlobSet(flag, globs)
	return err
}

// match reports whether one of the globs matches rel (slash-separated).
func (gs globSet) match(rel string) bool {
	rel = strings.TrimPrefix(path.Clean(filepath.ToSlash(rel)), "./")
	elems := strings.Split(rel, "/")
	for _, g := range gs {
		if !strings.Contains(strings.TrimSuffix(g, "/"), "/") {
			g = strings.TrimSuffix(g, "/")
			for _, el := range elems {
				if ok, _ := path.Match(g, el); ok {
					return true
				}
			}
			continue
		}
		pat := strings.Split(strings.Trim(g, "/"), "/")
		for n := len(elems); n >= 1; n-- {
			if matchElems(pat, elems[:n]) {
				return true
			}
		}
	}
	return false
}

// matchElems matches a whole path, element by element, "**" standing for
// any number of elements.
func matchElems(pat, elems []string) bool {
	if len(pat) == 0 {
		return len(elems) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(elems); i++ {
			if matchElems(pat[1:], elems[i:]) {
				return true
			}
		}
		return false
	}
	if len(elems) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], elems[0])
	return ok && matchElems(pat[1:], elems[1:])
}

// selection decides which walked files a run fills.
type selection struct {
	include, exclude globSet
}

func newSelection(cfg Config) (*selection, error) {
	in, err := newGlobSet("--include", cfg.Include)
	if err != nil {
		return nil, err
	}
	ex, err := newGlobSet("--exclude", cfg.Exclude)
	if err != nil {
		return nil, err
	}
	return &selection{include: in, exclude: ex}, nil
}

// Reasons a walked file is left out, as Summary.Skipped counts them.
const (
	skipExcluded  = "excluded (--exclude)"
	skipIncluded  = "not named by --include"
	skipNotSource = "not source code of a language with a grammar here (--include names other files to fill)"
)

// admit says whether the file at path (rel from its PATH) is filled, or
// why not.
func (s *selection) admit(path, rel string) (ok bool, why string) {
	if len(s.exclude) > 0 && s.exclude.match(rel) {
		return false, skipExcluded
	}
	if len(s.include) > 0 {
		if s.include.match(rel) {
			return true, ""
		}
		return false, skipIncluded
	}
	if syntax.Lookup(syntax.Detect("", path)) == nil {
		return false, skipNotSource
	}
	return true, ""
}
