//go:build !unix

package main

import "os"

// ownedByMe: without Unix owners, a file in the user's own folders is
// taken as theirs.
func ownedByMe(os.FileInfo) bool { return true }
