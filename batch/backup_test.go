package batch

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// What the next run makes of a backup, for each state its file can be in.
func TestRecoverBackup(t *testing.T) {
	old, new := "package a\n\n// old tail, longer\n", "package a\n\nvar x = 1\n"
	for _, tt := range []struct {
		name, file, want, says string
	}{
		{"complete", new, new, "a.go completely"},
		{"not started", old, old, "had not changed "},
		{"half written", new[:14] + old[14:], old, "only in part"},
		{"written, not cut", new + old[len(new):], old, "only in part"},
		{"a block of zeros", new[:11] + "\x00\x00\x00" + old[14:], old, "only in part"},
		{"empty", "", old, "was cut short"},
		{"cut short", old[:5], old, "was cut short"},
		{"edited since", "package a // mine\n", "package a // mine\n", "edited after the killed run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, map[string]string{"a.go": tt.file})
			var b bytes.Buffer
			b.WriteString("dfim backup 1 old=" + itoa(len(old)) + " new=" + itoa(len(new)) + "\n" + old + new)
			bp := filepath.Join(root, ".a.go.dfim-backup-123")
			if err := os.WriteFile(bp, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			recoverLeftovers([]string{root}, false, &log)
			if got := read(t, filepath.Join(root, "a.go")); got != tt.want {
				t.Errorf("a.go %q, want %q", got, tt.want)
			}
			if _, err := os.Stat(bp); err == nil {
				t.Error("backup left")
			}
			if !strings.Contains(log.String(), tt.says) || strings.Count(log.String(), "\n") != 1 {
				t.Errorf("said %q, want one line with %q", log.String(), tt.says)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
