package convert

import (
	"fmt"

	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/kernels"
)

func newKernelLinear(typ gguf.Type, data []byte, out, in int) (kernels.Linear, error) {
	switch typ {
	case gguf.TypeQ4_K:
		return kernels.NewLinearQ4_K(data, out, in)
	case gguf.TypeQ6_K:
		return kernels.NewLinearQ6_K(data, out, in)
	}
	return nil, fmt.Errorf("no kernel for %v", typ)
}
