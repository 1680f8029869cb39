package index

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWalkRespectsGitignoreAndSkips(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, root, ".gitignore", "*.log\nbuild/\n!keep.log\n")
	write(t, root, "a.go", "package a\n")
	write(t, root, "debug.log", "x\n")
	write(t, root, "keep.log", "x\n")
	write(t, root, "build/out.go", "package b\n")
	write(t, root, "sub/.gitignore", "gen.go\n")
	write(t, root, "sub/gen.go", "package sub\n")
	write(t, root, "sub/real.go", "package sub\n")
	write(t, root, "vendor/v.go", "package v\n")
	write(t, root, "bin.dat", "ab\x00cd")
	write(t, root, "big.txt", string(bytesOf('x', 2000)))
	write(t, outside, "secret.go", "package s\n")
	if err := os.Symlink(filepath.Join(outside, "secret.go"), filepath.Join(root, "link.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "a.go"), filepath.Join(root, "inlink.go")); err != nil {
		t.Fatal(err)
	}
	var got []string
	skips := map[SkipReason][]string{}
	err := Walk(root, WalkOptions{MaxFileSize: 1000}, func(p string, _ fs.FileInfo) error {
		rel, _ := filepath.Rel(root, p)
		got = append(got, filepath.ToSlash(rel))
		return nil
	}, func(s Skip) {
		rel, _ := filepath.Rel(root, s.Path)
		skips[s.Reason] = append(skips[s.Reason], rel)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".gitignore", "a.go", "inlink.go", "keep.log", "sub/.gitignore", "sub/real.go"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("visited %v, want %v", got, want)
	}
	if !reflect.DeepEqual(skips[SkipBinary], []string{"bin.dat"}) || !reflect.DeepEqual(skips[SkipTooLarge], []string{"big.txt"}) ||
		!reflect.DeepEqual(skips[SkipSymlink], []string{"link.go"}) {
		t.Errorf("skips = %v", skips)
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// TestWalkRelativeRootKeepsInTreeLinks: with a relative root, a symlink to
// a file inside the tree is followed and one out of it is not. Before, the
// link's target came back relative and was judged against the absolute
// root, so every link counted as leaving the tree.
func TestWalkRelativeRootKeepsInTreeLinks(t *testing.T) {
	base := t.TempDir()
	write(t, base, "ws/a.go", "package a\n")
	write(t, base, "ws/sub/b.go", "package sub\n")
	write(t, base, "outside/secret.go", "package s\n")
	for link, target := range map[string]string{
		"ws/inlink.go":  "a.go",                         // relative, in the tree
		"ws/sub/up.go":  filepath.Join(base, "ws/a.go"), // absolute, in the tree
		"ws/outlink.go": "../outside/secret.go",         // out of the tree
	} {
		if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(base)
	var got []string
	skips := map[SkipReason][]string{}
	err := Walk("ws", WalkOptions{}, func(p string, _ fs.FileInfo) error {
		got = append(got, filepath.ToSlash(p))
		return nil
	}, func(s Skip) {
		skips[s.Reason] = append(skips[s.Reason], filepath.ToSlash(s.Path))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ws/a.go", "ws/inlink.go", "ws/sub/b.go", "ws/sub/up.go"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("visited %v, want %v", got, want)
	}
	if !reflect.DeepEqual(skips[SkipSymlink], []string{"ws/outlink.go"}) {
		t.Errorf("skipped as leaving the tree: %v, want only ws/outlink.go", skips[SkipSymlink])
	}
}
