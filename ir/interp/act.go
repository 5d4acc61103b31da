package interp

import (
	"github.com/mncdev/mnc/ir"
)

// activate sets y[i] = float32(act.Apply(float64(x[i]))). It chooses
// the loop once per call instead of once per element and uses the min and max
// builtins, whose float rules (NaN wins, -0 < +0) are those of math.Min and
// math.Max used by Apply, so results are bit-for-bit those of Apply
// (TestActivateMatchesApply checks this). The product in hard sigmoid is
// rounded explicitly so that no platform fuses it with the add.
func activate[T float32 | float64](act ir.Activation, y []float32, x []T) {
	y = y[:len(x)]
	switch act.Kind {
	case ir.ActNone:
		for i, v := range x {
			y[i] = float32(float64(v))
		}
	case ir.ActRelu:
		for i, v := range x {
			y[i] = float32(max(float64(v), 0))
		}
	case ir.ActRelu6:
		for i, v := range x {
			y[i] = float32(min(max(float64(v), 0), 6))
		}
	case ir.ActClip:
		lo, hi := float64(act.Min), float64(act.Max)
		for i, v := range x {
			y[i] = float32(min(max(float64(v), lo), hi))
		}
	case ir.ActHardSigmoid:
		alpha, beta := float64(act.Alpha), float64(act.Beta)
		for i, v := range x {
			y[i] = float32(max(0, min(1, float64(alpha*float64(v))+beta)))
		}
	case ir.ActHardSwish:
		for i, v := range x {
			s := float64(v)
			y[i] = float32(s * min(max(s+3, 0), 6) / 6)
		}
	default:
		for i, v := range x {
			y[i] = float32(act.Apply(float64(v)))
		}
	}
}
