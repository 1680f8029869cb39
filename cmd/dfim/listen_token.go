package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tokenDir is the folder of the tokens `serve --listen` makes up: under
// $XDG_RUNTIME_DIR (a per-user folder others cannot enter, emptied at
// logout) when set, else under the user's cache folder.
func tokenDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "dfim"), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding a folder for the session token: %w; give one with --token-file", err)
	}
	return filepath.Join(cache, "dfim"), nil
}

// serveToken is the token of `serve --listen` on port when the user gave
// none: the one in the port's token file when a previous run left a valid
// one there (editors configured with it keep working), else a new random
// one written there. The file and its folder are the user's alone (0600,
// 0700). It returns the token and the file's path.
func serveToken(port string, getenv func(string) string) (token, path string, err error) {
	dir, err := tokenDir(getenv)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("making the folder %s for the session token: %w; give a token with --token-file", dir, err)
	}
	// MkdirAll leaves an existing folder as it is: make sure it is ours
	// and closed to others.
	st, err := os.Lstat(dir)
	if err != nil {
		return "", "", fmt.Errorf("session token folder: %w", err)
	}
	if !st.IsDir() || !ownedByMe(st) {
		return "", "", fmt.Errorf("%s is not a folder of yours; remove it, or give a token with --token-file", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", "", fmt.Errorf("closing %s to other users: %w; give a token with --token-file", dir, err)
		}
	}
	path = filepath.Join(dir, "serve-"+port+".token")
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() && ownedByMe(st) && st.Mode().Perm()&0o077 == 0 {
		if b, err := readSmallFile(path, 4<<10); err == nil {
			if t := strings.TrimSpace(string(b)); len(t) >= 32 {
				return t, path, nil
			}
		}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", fmt.Errorf("making a session token: %w", err)
	}
	token = hex.EncodeToString(raw[:])
	// Written beside, then renamed: the file is never readable by others,
	// nor seen half written.
	tmp, err := os.CreateTemp(dir, ".serve-token-*")
	if err != nil {
		return "", "", fmt.Errorf("writing the session token: %w; give one with --token-file", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.WriteString(token + "\n")
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", "", fmt.Errorf("writing the session token to %s: %w; give one with --token-file", path, err)
	}
	return token, path, nil
}
