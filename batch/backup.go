package batch

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// What a killed run leaves, and how the next run cleans it up.
//
// A file with one name is written through a temporary file next to it,
// ".NAME.dfim-NNN" (NNN: digits), synced and renamed over it: a kill
// leaves the old file or the new one, and maybe the temporary file, which
// never was the user's data and is removed.
//
// A file with other hard links is rewritten in place (writeInPlace). First
// a backup ".NAME.dfim-backup-NNN" is written and synced: a header line
// "dfim backup 1 old=N new=M", then the file's old content (N bytes), then
// the new (M bytes). Every state the file passes through while dfim writes
// it (or puts the old content back) has, at each byte, the old version's
// byte or the new one's, and a length between the two versions' lengths:
// with both versions in the backup the next run can tell such a state from
// a complete write and from an edit someone made after the kill.
//
// The next dfim batch run over the folder (recoverLeftovers) then, for
// each backup:
//   - file holds the new version, or the old one: the backup is removed;
//   - file holds a mix of the two (the write was cut short), or a prefix
//     of one shorter than both (empty, say): the old version is written
//     back in place, then the backup is removed;
//   - file holds something else (edited since): it is left alone and the
//     backup removed, as the file is the user's now;
//   - the backup is shorter than its header says: the file was not touched
//     yet, and the backup is removed.
//
// Backups of earlier dfim versions hold the old content alone; the file is
// restored from one when it is empty or shorter than the backup (those
// versions truncated first), and otherwise left alone with the backup.

// Name parts of the leftovers; the digits are os.CreateTemp's.
const (
	tempInfix   = ".dfim-"
	backupInfix = ".dfim-backup-"
)

var (
	tempName   = regexp.MustCompile(`^\.(.+)\.dfim-[0-9]{1,10}$`)
	backupName = regexp.MustCompile(`^\.(.+)\.dfim-backup-[0-9]{1,10}$`)
	// backupHeader is the first line of a backup.
	backupHeader = regexp.MustCompile(`^dfim backup 1 old=([0-9]+) new=([0-9]+)\n`)
)

// writeBackup writes the backup of path (holding old, about to get new)
// next to it and syncs it and its folder; it returns the backup, open and
// locked (tryLock) until the caller is done with it and closes it.
func writeBackup(path string, old, new []byte) (*os.File, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+backupInfix+"*")
	if err != nil {
		return nil, fmt.Errorf("creating a backup next to %s: %w", path, err)
	}
	crashPoint("backup-created")
	if !tryLock(f) || !stillNamed(f) {
		f.Close()
		return nil, fmt.Errorf("another dfim run took the backup %s next to %s while it was being made; run dfim batch again once that run is done", f.Name(), path)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "dfim backup 1 old=%d new=%d\n", len(old), len(new))
	b.Write(old)
	b.Write(new)
	_, err = f.Write(b.Bytes())
	if err == nil {
		crashPoint("backup-written")
		err = f.Sync()
	}
	if err != nil {
		os.Remove(f.Name())
		f.Close()
		return nil, fmt.Errorf("writing the backup %s: %w", f.Name(), err)
	}
	syncDir(dir) // the backup's name must outlive a crash before the file is touched
	crashPoint("backup-synced")
	return f, nil
}

// stillNamed reports whether f's name still names f.
func stillNamed(f *os.File) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(f.Name())
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// A leftover is a temporary file or backup a killed run left.
type leftover struct {
	path   string // the leftover
	target string // the file it belongs to
	backup bool
}

// findLeftovers lists dfim's leftovers under the roots (files or folders),
// skipping the folders a walk never enters (.git, vendor, node_modules). Only names of dfim's exact pattern count, and a
// temporary file only next to the file it was for.
func findLeftovers(roots []string) []leftover {
	var out []leftover
	seen := map[string]bool{}
	// look takes p (named name) when it is a leftover of a file named
	// only (any file, when only is "").
	look := func(p, name, only string) {
		if seen[p] {
			return
		}
		dir := filepath.Dir(p)
		if m := backupName.FindStringSubmatch(name); m != nil {
			if only == "" || m[1] == only {
				seen[p] = true
				out = append(out, leftover{path: p, target: filepath.Join(dir, m[1]), backup: true})
			}
			return
		}
		if m := tempName.FindStringSubmatch(name); m != nil && (only == "" || m[1] == only) {
			target := filepath.Join(dir, m[1])
			if info, err := os.Lstat(target); err == nil && !info.IsDir() {
				seen[p] = true
				out = append(out, leftover{path: p, target: target})
			}
		}
	}
	for _, root := range roots {
		info, err := os.Stat(root)
		if err != nil {
			continue
		}
		if !info.IsDir() {
			// A file root: its leftovers sit beside it.
			entries, err := os.ReadDir(filepath.Dir(root))
			if err != nil {
				continue
			}
			for _, e := range entries {
				if e.Type().IsRegular() {
					look(filepath.Join(filepath.Dir(root), e.Name()), e.Name(), filepath.Base(root))
				}
			}
			continue
		}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable folder: nothing of ours can be in it
			}
			if d.IsDir() {
				// The folders a walk never fills (index.Walk's defaults);
				// a plan's file there is a root of its own.
				if p != root && (d.Name() == ".git" || d.Name() == "vendor" || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				look(p, d.Name(), "")
			}
			return nil
		})
	}
	return out
}

// recoverLeftovers cleans up what killed runs left under roots, as the
// comment at the top of this file says, and writes one line per leftover
// to log. In a dry run it only says what it would do.
func recoverLeftovers(roots []string, dryRun bool, log io.Writer) {
	for _, l := range findLeftovers(roots) {
		// Locked by a run still going (another dfim batch): its own.
		lf, err := os.Open(l.path)
		if err != nil {
			continue // gone meanwhile
		}
		if !tryLock(lf) || !stillNamed(lf) {
			lf.Close()
			continue
		}
		var msg string
		if l.backup {
			msg = recoverBackup(l, dryRun)
		} else {
			msg = fmt.Sprintf("removed %s, a temporary file a killed dfim run left (it never held %s's content; %s is as it was)",
				l.path, filepath.Base(l.target), l.target)
			if dryRun {
				msg = fmt.Sprintf("found %s, a temporary file a killed dfim run left; a run without --dry-run removes it", l.path)
			} else if err := os.Remove(l.path); err != nil {
				msg = fmt.Sprintf("cannot remove %s, a temporary file a killed dfim run left: %v; remove it by hand", l.path, err)
			}
		}
		lf.Close()
		fmt.Fprintln(log, "dfim batch: "+msg)
	}
}

// recoverBackup decides what a backup says about its file and acts on it
// (not in a dry run); it returns the line to report.
func recoverBackup(l leftover, dryRun bool) string {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return fmt.Sprintf("cannot read %s, a backup a killed dfim run left of %s: %v; compare it with the file and remove it by hand", l.path, l.target, err)
	}
	cur, err := os.ReadFile(l.target)
	if err != nil {
		return fmt.Sprintf("found %s, a backup a killed dfim run left, but not the file it backs up (%v); it is kept: rename it to %s to get the old content back",
			l.path, err, filepath.Base(l.target))
	}
	old, new, ok, complete := parseBackup(data)
	var restore bool
	var why string
	switch {
	case ok && !complete:
		why = "the run was killed while writing the backup, before touching the file, which is as it was"
	case !ok && len(cur) < len(data):
		restore, why = true, fmt.Sprintf("%s (%d bytes) was cut short by the killed run; its old content (%d bytes) was put back", l.target, len(cur), len(data))
	case !ok:
		return fmt.Sprintf("found %s, a backup an earlier dfim version left of %s, which is no shorter than it: both are kept; compare them and remove the backup",
			l.path, l.target)
	case bytes.Equal(cur, new):
		why = fmt.Sprintf("the killed run had written %s completely", l.target)
	case bytes.Equal(cur, old):
		why = fmt.Sprintf("the killed run had not changed %s yet", l.target)
	case isMix(cur, old, new):
		restore, why = true, fmt.Sprintf("the killed run had written %s only in part; its old content was put back", l.target)
	case len(cur) < min(len(old), len(new)) && (bytes.HasPrefix(old, cur) || bytes.HasPrefix(new, cur)):
		// Not dfim's doing (it never truncates first), but a crash of the
		// machine can leave a file cut short.
		restore, why = true, fmt.Sprintf("%s (%d bytes) was cut short; its old content (%d bytes) was put back", l.target, len(cur), len(old))
	default:
		why = fmt.Sprintf("%s was edited after the killed run, so it was left as it is", l.target)
	}
	if dryRun {
		act := "remove it"
		if restore {
			act = "put " + l.target + "'s old content back from it and remove it"
		}
		return fmt.Sprintf("found %s, a backup a killed dfim run left; a run without --dry-run will %s", l.path, act)
	}
	if restore {
		if !ok {
			old = data
		}
		if err := putBack(l.target, old); err != nil {
			return fmt.Sprintf("could not put back %s from its backup %s: %v; the backup is kept: copy its content over the file by hand", l.target, l.path, err)
		}
	}
	if err := os.Remove(l.path); err != nil {
		return fmt.Sprintf("%s; could not remove its backup %s: %v", why, l.path, err)
	}
	syncDir(filepath.Dir(l.path))
	return fmt.Sprintf("removed the backup %s: %s", l.path, why)
}

// parseBackup splits a backup into the old and new versions. ok is false
// for a backup without a header (an earlier dfim version's: data is the old
// content); complete is false when the backup is not as long as its header
// says (the run was killed while writing it).
func parseBackup(data []byte) (old, new []byte, ok, complete bool) {
	m := backupHeader.FindSubmatch(data)
	if m == nil {
		// Empty, or cut inside its header line: killed while writing it.
		start := []byte("dfim backup 1 ")
		if bytes.HasPrefix(start, data) || bytes.HasPrefix(data, start) && bytes.IndexByte(data, '\n') < 0 {
			return nil, nil, true, false
		}
		return nil, nil, false, false
	}
	n, err1 := strconv.Atoi(string(m[1]))
	k, err2 := strconv.Atoi(string(m[2]))
	body := data[len(m[0]):]
	if err1 != nil || err2 != nil || len(body) != n+k {
		return nil, nil, true, false
	}
	return body[:n:n], body[n:], true, true
}

// isMix reports whether cur is a state an in-place write between old and
// new passes through: its length lies between theirs, and each byte is
// old's or new's byte at that place, or a zero byte (a block the machine
// did not get to write before it went down).
func isMix(cur, old, new []byte) bool {
	if len(cur) < min(len(old), len(new)) || len(cur) > max(len(old), len(new)) {
		return false
	}
	for i, c := range cur {
		if c != 0 && !(i < len(old) && c == old[i]) && !(i < len(new) && c == new[i]) {
			return false
		}
	}
	return true
}

// putBack writes old over path in place (its other hard links see it), with
// the backup still on disk, so a kill here is recovered the same way.
func putBack(path string, old []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = overwrite(f, old)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
