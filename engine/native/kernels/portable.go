//go:build !goexperiment.simd || !amd64

package kernels

func availableLevels() []level { return []level{levelPortable} }

func archUse(level) {}

func hasVNNI() bool { return false }
