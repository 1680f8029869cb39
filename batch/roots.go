package batch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// realPath is path made absolute with every symlink resolved. It is not
// cleaned first: "link/../x" means x beside the link's target, as the
// kernel reads it, not x beside the link. A path that does not exist (yet)
// is resolved as far as its folder.
func realPath(path string) (string, error) {
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		path = wd + string(filepath.Separator) + path
	}
	r, err := filepath.EvalSymlinks(path)
	if err == nil {
		return r, nil
	}
	if !os.IsNotExist(err) {
		return "", err
	}
	i := strings.LastIndexByte(path, filepath.Separator)
	dir, base := path[:i+1], path[i+1:]
	if base == "" || base == "." || base == ".." {
		return "", err
	}
	rdir, derr := filepath.EvalSymlinks(dir)
	if derr != nil {
		return "", derr
	}
	return filepath.Join(rdir, base), nil
}

// within reports whether path lies at or under root (both real paths).
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// planPaths resolves the path of every plan entry and checks it lies in
// one of roots (the current folder when none is given), after symlinks: a
// plan must not make batch write outside the tree it was given
// ("../outside/x.go", "/etc/...", or an in-tree link pointing out). Each
// entry gets its real path.
func planPaths(plan []PlanEntry, roots []string) error {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	real := make([]string, len(roots))
	for i, r := range roots {
		p, err := realPath(r)
		if err != nil {
			return fmt.Errorf("root %s: %w", r, err)
		}
		real[i] = p
	}
	var bad []string
	for i, e := range plan {
		p, err := realPath(e.Path)
		inside := false
		if err == nil {
			for _, r := range real {
				inside = inside || within(p, r)
			}
		}
		if !inside {
			bad = append(bad, fmt.Sprintf("plan line %d: %q is outside %s", e.line, e.Path, strings.Join(roots, ", ")))
			continue
		}
		// The file checked is the file written: its real path, so a link
		// inside the tree is written through, and nothing the check did not
		// see (a link swapped in, ".." after a link) decides the target.
		plan[i].Path = p
	}
	if len(bad) > 0 {
		return fmt.Errorf("batch: the plan names files outside the folders given; name files under them, or pass the folder that holds them as a PATH:\n  %s",
			strings.Join(bad, "\n  "))
	}
	return nil
}
