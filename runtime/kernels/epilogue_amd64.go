//go:build !purego

package kernels

// epiFillAVX2 fills the per-lane constants corr to sh of e (not lo, hi, z):
// lanes 4i..4i+3 from channels gi..gi+3 of mult, bias (nil: zeros) and wsum
// (nil: zeros; little-endian int32 at 4 bytes per channel), corr = bias -
// zc x wsum. It returns the flags. The generic twin is epiBlock.fillLanes.
//
//go:noescape
func epiFillAVX2(e *epiBlock, mult *Multiplier, bias *int32, wsum *int8, zc int, g0, g1, g2, g3 int) int

// fillGroups fills e from four groups of four channels starting at the
// given channels (all < len(mult)), with the assembly; lo, hi and z must
// already be set (setOut).
func (e *epiBlock) fillGroups(mult []Multiplier, bias []int32, w []int8, wsumOff int, zc int32, g [4]int) int {
	top := max(g[0], g[1], g[2], g[3]) + 4
	if min(g[0], g[1], g[2], g[3]) < 0 || top > len(mult) || (bias != nil && top > len(bias)) || (wsumOff >= 0 && wsumOff+4*top > len(w)) {
		panic("kernels: epilogue channel groups out of range")
	}
	var bp *int32
	if bias != nil {
		bp = &bias[0]
	}
	var wp *int8
	if wsumOff >= 0 {
		wp = &w[wsumOff]
	}
	return epiFillAVX2(e, &mult[0], bp, wp, int(zc), g[0], g[1], g[2], g[3])
}
