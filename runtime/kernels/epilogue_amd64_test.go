//go:build !purego

package kernels

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestEpiFillAVX2 checks the assembly fill against fillLanes, every field.
func TestEpiFillAVX2(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(43, 44))
	for it := range 3000 {
		c := 16 + r.IntN(100)
		mult := extremeMults(r, c, 1, 1+r.IntN(500))
		if it%3 == 0 {
			for i := range mult {
				mult[i] = Multiplier{M: int32(1<<30 + r.IntN(1<<30)), S: int32(1 + r.IntN(MaxShift))}
				if mult[i].S == MaxShift && r.IntN(2) == 0 {
					mult[i].M = int32(r.IntN(1 << 30))
				}
			}
		}
		var bias []int32
		if r.IntN(3) > 0 {
			bias = make([]int32, c)
			for i := range bias {
				bias[i] = int32(r.Uint32())
			}
		}
		w := randI8(r, 7+4*c+r.IntN(9), -128, 127)
		wsumOff := -1
		if r.IntN(3) > 0 {
			wsumOff = r.IntN(7)
		}
		zc := int32(r.IntN(512) - 128)
		var g [4]int
		var lanes [16]int
		for i := range g {
			g[i] = r.IntN(c - 3)
			for j := range 4 {
				lanes[4*i+j] = g[i] + j
			}
		}
		var want, got epiBlock
		wf := want.fillLanes(&lanes, mult, bias, w, wsumOff, zc, 3, Full)
		got.setOut(3, Full)
		gf := got.fillGroups(mult, bias, w, wsumOff, zc, g)
		if got != want || gf != wf {
			t.Fatalf("it %d: assembly fill differs (flags %d, want %d)\ngot  %+v\nwant %+v", it, gf, wf, got, want)
		}
	}
}
