package runtime

import (
	"fmt"

	"github.com/mncdev/mnc/runtime/mncfb"
)

// Mixed precision (format 1.3): an int8 model in which some operators
// compute in float32, bridged by QUANTIZE and DEQUANTIZE. Such a file's
// precision is MIXED and every operator states its own, which must be
// OpPrecision of its activation tensors; the planner runs each operator
// on the kernels of its precision (float32 steps follow one rule on every
// CPU, int8 steps are exact), so a mixed model, too, gives the same bytes
// on every CPU and kernel set.

// OpPrecision is the precision of an operator of a mixed model: INT8 when
// one of its activation tensors (inputs, outputs, intermediates) is int8,
// FLOAT32 otherwise. The writer (codegen) and the verifier share it.
func OpPrecision(activations ...mncfb.DType) mncfb.Precision {
	for _, d := range activations {
		if d == mncfb.DTypeINT8 {
			return mncfb.PrecisionINT8
		}
	}
	return mncfb.PrecisionFLOAT32
}

// precisionOf is OpPrecision of op's activation tensors.
func (m *Model) precisionOf(op *operator) mncfb.Precision {
	var ds []mncfb.DType
	for _, list := range [][]int{op.in, op.out, op.mid} {
		for _, x := range list {
			if x >= 0 && !m.tensors[x].isConst() {
				ds = append(ds, m.tensors[x].dtype)
			}
		}
	}
	return OpPrecision(ds...)
}

// checkPrecisions verifies the operators' precision fields: in a mixed
// model each is its operator's OpPrecision and both precisions occur (a
// model all in one precision is INT8 or FLOAT32); in other models the
// field is absent. It records the float32 operators of a mixed model in
// the Info.
func (m *Model) checkPrecisions(r *mncfb.Model) error {
	var fo mncfb.Operator
	var n8, nf int
	for i := range m.ops {
		r.Operators(&fo, i)
		op := &m.ops[i]
		stated, want := fo.Precision(), m.precisionOf(op)
		if m.info.Precision != "mixed" {
			if stated != mncfb.PrecisionFLOAT32 {
				return fmt.Errorf("operator %d (%q) states precision %v in a model of precision %s (only mixed models state it per operator)", i, op.name, stated, m.info.Precision)
			}
			continue
		}
		if stated != want {
			return fmt.Errorf("operator %d (%q) states precision %v, but its tensors make it %v", i, op.name, stated, want)
		}
		if want == mncfb.PrecisionINT8 {
			n8++
		} else {
			nf++
			m.info.FloatOps = append(m.info.FloatOps, op.name)
		}
	}
	if m.info.Precision == "mixed" && (n8 == 0 || nf == 0) {
		return fmt.Errorf("the file's precision is mixed, but its %d operators are all %s", len(m.ops), map[bool]string{true: "float32", false: "int8"}[n8 == 0])
	}
	return nil
}
