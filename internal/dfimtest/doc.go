// Package dfimtest is the end-to-end tests' shared harness: Binary builds
// the dfim command once for the sources of this checkout and shares it
// between the packages whose tests run it (lsp, engine/remote, eval,
// eval/lspbench, lsp/httpapi), instead of each building its own copy.
// Binaries live under $TMPDIR/dfim-test-bin, named by a hash of the
// sources, the build tags and GOEXPERIMENT, so an edit gets a fresh build
// and an unchanged tree none. Only tests import it.
package dfimtest
