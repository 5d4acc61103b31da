//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDepthwiseFlat sweeps the layers the flat kernels take (stride 1 or 2
// along the width; any stride and dilation along the height) against the generic
// twin: channel counts of every period, rows of several periods and of a
// partial last vector, pads that leave border pixels and padded rows.
func TestDepthwiseFlat(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(91, 92))
	n := 0
	for _, k := range []int{3, 5} {
		for _, c := range []int{1, 8, 16, 24, 32, 40, 48, 56, 64, 72, 96, 120, 136, 144, 184, 240, 480, 672, 960} {
			for rep := range 8 {
				h, w := 1+r.IntN(9), 1+r.IntN(24)
				if c >= 240 {
					h, w = 1+r.IntN(6), 1+r.IntN(12)
				}
				pads := [4]int{k / 2, k / 2, k / 2, k / 2}
				if rep > 0 {
					pads = [4]int{r.IntN(k), r.IntN(k), r.IntN(k), r.IntN(k)}
				}
				sh, sw, dh := 1+rep%2, 1+rep/2%2, 1+rep/6
				if h+pads[0]+pads[2] < dh*(k-1)+1 || w+pads[1]+pads[3] < k {
					continue
				}
				p, x, wt, bias := newConvCase(r, 1+r.IntN(2), h, w, c, c, k, k, sh, sw, dh, 1, pads[0], pads[1], pads[2], pads[3], c)
				if rep == 1 {
					// Shifts in [22, 33) and small biases: the accumulators
					// fit acc << L (epiShift) or, for the small shifts, not.
					for i := range p.Mult {
						p.Mult[i] = Multiplier{M: int32(1<<30 + r.IntN(1<<30)), S: int32(22 + r.IntN(11))}
					}
					for i := range bias {
						bias[i] = int32(r.IntN(2001) - 1000)
					}
				}
				wd := make([]int8, len(wt))
				for o := range c {
					for t := range k * k {
						wd[t*c+o] = wt[o*k*k+t]
					}
				}
				want := make([]int8, p.N*p.OH*p.OW*p.O)
				if err := p.ValidateDepthwise(x, wd, bias, want); err != nil {
					t.Fatal(err)
				}
				Depthwise(p, x, wd, bias, want, 0, p.Rows())
				for _, st := range sets {
					name := fmt.Sprintf("%s %dx%d/%d,%d dh%d C=%d N=%d %dx%d pads %v zx=%d zy=%d out=%v", st.Name, k, k, sh, sw, dh, c, p.N, h, w, pads, p.XZero, p.YZero, p.Out)
					gx, gw := newGuarded(r, x), newGuarded(r, st.PackDepthwise(p, wd))
					gy := newGuarded(r, make([]int8, len(want)))
					for _, sp := range splits(r, p.Rows()) {
						st.Depthwise(p, gx.s(), gw.s(), bias, gy.s(), sp[0], sp[1])
					}
					gx.check(t, name+" x")
					gw.check(t, name+" w")
					gy.check(t, name+" y")
					if !slices.Equal(gy.s(), want) {
						reportDiff(t, name+" Depthwise", gy.s(), want, c)
					}
					n++
				}
			}
		}
	}
	t.Logf("%d cases", n)
}
