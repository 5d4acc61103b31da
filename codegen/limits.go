package codegen

import (
	"fmt"

	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/limits"
)

// checkLimits refuses, before anything is serialized, a graph whose file
// the runtime would refuse for its size: the same named limits
// (runtime/limits) that the runtime's verifier applies, with the tensor
// that exceeds one. Without it such a file was written and then failed
// Build's final check as "does not verify (a bug)".
func (b *builder) checkLimits() error {
	if n := len(b.tensors); n > limits.ModelTensors {
		return fmt.Errorf("the model has %d tensors; the runtime's limit is %d", n, limits.ModelTensors)
	}
	if n := len(b.ops); n > limits.ModelOps {
		return fmt.Errorf("the model has %d operators; the runtime's limit is %d", n, limits.ModelOps)
	}
	consts := 0
	file := int64(1 << 16) // tables, names and metadata: a generous bound
	for _, t := range b.tensors {
		n := int64(1)
		for _, d := range t.shape {
			n *= int64(d)
			if n > limits.ModelTensorElements {
				return fmt.Errorf("tensor %s of shape %v has more than %d elements, the runtime's limit", esc.String(t.name), t.shape, limits.ModelTensorElements)
			}
		}
		if t.data != nil {
			consts++
			file += int64(len(t.data)) + runtime.BufferAlignment
			continue
		}
		if t.bytes > limits.ModelArena {
			return fmt.Errorf("the activation %s of shape %v needs %s; the runtime's limit on activation memory is %s", esc.String(t.name), t.shape, limits.Bytes(t.bytes), limits.Bytes(limits.ModelArena))
		}
	}
	if consts+1 > limits.ModelBuffers {
		return fmt.Errorf("the model has %d constant tensors; the runtime's limit is %d", consts, limits.ModelBuffers-1)
	}
	if b.arena > limits.ModelArena {
		return fmt.Errorf("the model's activations need %s (its arena); the runtime's limit is %s", limits.Bytes(b.arena), limits.Bytes(limits.ModelArena))
	}
	if file > limits.ModelFile {
		return fmt.Errorf("the model's weights need a file of %s; the runtime's limit is %s", limits.Bytes(file), limits.Bytes(limits.ModelFile))
	}
	return nil
}
