package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/dfim/dfim/engine"
)

// version is set at link time (-ldflags "-X main.version=...") for releases.
var version = "devel"

func init() {
	register(&command{name: "version", summary: "print dfim's version, Go version and engines", run: runVersion})
}

func runVersion(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "devel" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "devel+" + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(os.Stdout, "dfim %s (%s %s/%s) engines: %v\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH, engine.Names())
	return nil
}
