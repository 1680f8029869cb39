//go:build !unix

package models

import "os"

// freeBytes is unknown here (-1): the check is skipped.
var freeBytes = func(dir string) (int64, error) { return -1, nil }

// lockPartial does nothing here: two pulls of one file at once are not
// kept apart.
func lockPartial(*os.File) error { return nil }

// lockFile does nothing here.
func lockFile(string) (func(), error) { return func() {}, nil }
